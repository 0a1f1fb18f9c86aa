# One image for every llmtwin worker; the role is chosen by the argument, e.g. `--queues control`.
# The stages' compute runs on SageMaker (aws.target=aws) or as moto's instant jobs, so the image
# carries Node only; local compute (the Python jobs on the worker's CPU) stays a development mode.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20.19-bookworm-slim
ENV NODE_ENV=production
# glibc gives threads arenas of their own (up to 8 per core), and memory freed in one stays with that
# thread: the Temporal core's threads then hold what a burst of work left. Two arenas took the idle
# worker's peak RSS at 1,000 endpoints from 255-309 MB to about 220 MB (bench/idle-sweep.ts).
ENV MALLOC_ARENA_MAX=2
# The attempt journal (workers/attempt-journal.ts) in a folder the unprivileged user can write: /app is root's.
ENV LLMTWIN_WORKER_ATTEMPTS_DIR=/tmp/llmtwin-worker-attempts
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/jobs ./jobs
# uid 1000 is the image's unprivileged `node` user.
USER 1000:1000
# Metrics for Prometheus (worker.metricsPort).
EXPOSE 9464
ENTRYPOINT ["node", "dist/workers/main.js"]
CMD ["--queues", "control,data,idle"]
