// The failure converter of every client, worker and workflow bundle: the default one with
// `encodeCommonAttributes`, which moves a failure's message and stack trace into a payload,
// so the payload codec encrypts them too (an error can quote what it failed on). Given to the
// SDK as a module path because the workflow sandbox loads it from the bundle.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
