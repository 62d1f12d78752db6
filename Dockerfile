# adaptive-zoo: the service with its committed zoo and premodels, as `npm start` runs it.
#   docker build -t adaptive-zoo:0.1.0 .
#   docker run --rm -p 8080:8080 --cpus 2 -e WORKERS=2 adaptive-zoo:0.1.0
# Two stages: the first compiles src/ with tsc (npm run build, with the dev dependencies), the
# second runs dist/ as `npm start` does, with the runtime dependencies alone.
# Node 24, the active LTS (maintained to April 2028); Node 20 reached its end of life in April 2026.
# The code still runs on Node 20 and later (package.json engines).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, for the layer cache. .npmrc skips onnxruntime-node's install script (it
# would download CUDA files); the CPU binaries ship inside the npm package.
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY zoo ./zoo
COPY premodel ./premodel
# Label feedback's log and key (FEEDBACK_DIR): a volume, so that labels outlive the container.
RUN mkdir -p /app/feedback && chown node:node /app/feedback
VOLUME /app/feedback

# Never root. WORKERS defaults to the cores the host has, which a CPU limit does not change: set
# it to the CPUs the container may use.
USER node
ENV PORT=8080 HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: readiness turns false, requests in flight finish (SHUTDOWN_TIMEOUT_MS), then exit.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
