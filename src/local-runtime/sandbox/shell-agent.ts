// The built-in `shell` agent: a run takes the conversation's queued user messages in
// order and executes each as `bash -c <text>`, one at a time, recording an ActionEvent
// when a command starts and an assistant MessageEvent with its output when it ends.
import { mkdir } from 'node:fs/promises';
import { runCommand } from './command-runner.js';
import type { RunningCommand } from './command-runner.js';
import type { Conversation } from './conversations.js';
import { killAll } from './process-tree.js';

export interface ShellAgentSettings {
  readonly commandTimeoutMs: number;
  readonly outputCapBytes: number;
  readonly ownProcessGroup: boolean;
  /** Tag prefix of this conversation's processes, ending in `/` (see process-tree.ts). */
  readonly tagPrefix: string;
  /** True while the server's commands are stopped (SIGSTOP): a command started then starts stopped too. */
  readonly frozen: () => boolean;
}

/** A running command's live pids and process groups (see ProcessSelector). */
export interface LiveProcesses {
  readonly roots: readonly number[];
  readonly groups: readonly number[];
}

export class ShellAgent {
  #run: Promise<void> | undefined;
  #current: RunningCommand | undefined;
  #pauseRequested = false;
  #stopped = false;
  #commandCount = 0;

  constructor(
    private readonly conversation: Conversation,
    private readonly settings: ShellAgentSettings,
  ) {}

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Starts a run unless one is in progress (then false). With nothing queued it only leaves `paused`. */
  run(): boolean {
    if (this.#run !== undefined || this.#stopped) return false;
    this.#pauseRequested = false;
    if (!this.conversation.hasPendingCommands) {
      if (this.conversation.status === 'paused') this.conversation.setStatus('idle');
      return true;
    }
    // Set before replying, so a client that reads the status right after sees `running`.
    this.conversation.setStatus('running');
    this.#run = this.#loop()
      .catch(() => this.conversation.setStatus('error'))
      .finally(() => {
        this.#run = undefined;
      });
    return true;
  }

  /** A running command is never interrupted: the run stops after it, ending in `paused`. */
  pause(): void {
    if (this.#run !== undefined) this.#pauseRequested = true;
    else this.conversation.setStatus('paused');
  }

  /** The running command's live pids and groups, for one signal over many conversations. */
  liveProcesses(): LiveProcesses {
    const selector = this.#current?.selector();
    return { roots: selector?.roots ?? [], groups: selector?.groups ?? [] };
  }

  /** Tells the running command that a caller signalled it (see RunningCommand.signalled). */
  signalled(signal: NodeJS.Signals): void {
    this.#current?.signalled(signal);
  }

  /**
   * Ends the agent for good and waits for its run to end. It kills every process of the
   * conversation unless `kill` is false (the caller then kills them, and must do so at once).
   */
  async stop(kill = true): Promise<void> {
    this.#stopped = true;
    // The running command and every process left behind by earlier ones.
    if (kill) await killAll({ tagPrefix: this.settings.tagPrefix, ...this.liveProcesses() });
    await this.#run;
  }

  async #loop(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      if (this.#pauseRequested) return this.conversation.setStatus('paused');
      const command = this.conversation.takeCommand();
      // The real server ends a run in `finished`; `idle` is only the state before any run.
      if (command === undefined) return this.conversation.setStatus('finished');
      await this.#execute(command);
    }
  }

  async #execute(command: string): Promise<void> {
    this.conversation.record('ActionEvent', 'agent', { action: { kind: 'ExecuteBashAction', command }, tool_name: 'terminal' });
    this.#commandCount += 1;
    // A command may have removed the workspace; without it bash would not even start.
    await mkdir(this.conversation.workspace, { recursive: true });
    if (this.#stopped) return;
    this.#current = runCommand({
      command,
      cwd: this.conversation.workspace,
      tag: `${this.settings.tagPrefix}${this.#commandCount}/`,
      timeoutMs: this.settings.commandTimeoutMs,
      outputCapBytes: this.settings.outputCapBytes,
      ownProcessGroup: this.settings.ownProcessGroup,
      startStopped: this.settings.frozen(),
    });
    const result = await this.#current.result;
    this.#current = undefined;
    if (this.#stopped) return;
    this.conversation.record('MessageEvent', 'agent', {
      llm_message: { role: 'assistant', content: [{ type: 'text', text: result.output }] },
      exit_code: result.exitCode,
      signal: result.signal,
      timed_out: result.timedOut,
      truncated: result.truncated,
      duration_ms: result.durationMs,
    });
  }
}
