# One image for every part of the application: the worker, the local Runtime API, the
# codec server and the CLI, with the workflow bundle built at image build time (workers
# start without bundling). Nothing of the host is mounted: the code is the image's, and
# docker-compose.yml runs every container with a read-only root filesystem, so processes
# write only to /data (keys, transcripts, sandboxes' workspaces) and /tmp, and an agent's
# command in a sandbox cannot change the application's code.
FROM node:20-bookworm-slim

# bubblewrap walls in the local Runtime API's sandboxes (docs/isolation.md); git and
# python3 are what agents commonly call; tini reaps the sandboxes' orphans as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap ca-certificates git python3 tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/complete-lockfile.mjs scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
RUN node --import tsx scripts/build-workflow-bundle.ts /app/dist/workflow-bundle.js

ENV NODE_ENV=production \
    DATA_DIR=/data \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
VOLUME ["/data"]

# Pick the part with the command: src/worker.ts (default), src/local-runtime/main.ts,
# src/codec/main.ts, or src/cli.ts <command> (docker compose run --rm cli …).
ENTRYPOINT ["tini", "--", "node", "--import", "tsx"]
CMD ["src/worker.ts"]
