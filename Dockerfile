# One image for every service of compose.yaml (each runs `node <svc>/src/main.ts`): Node
# runs the TypeScript sources directly, so there is no build step, only the dependencies.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY kit/package.json kit/
# kit's postinstall patches the PostgreSQL driver (kit/scripts/patch-postgres.ts).
COPY kit/scripts kit/scripts
COPY user-svc/package.json user-svc/
COPY product-svc/package.json product-svc/
COPY order-svc/package.json order-svc/
COPY payment-svc/package.json payment-svc/
COPY gateway-sim/package.json gateway-sim/
COPY tests/package.json tests/
RUN npm ci --omit=dev --no-audit --no-fund --workspace kit --workspace user-svc --workspace product-svc \
    --workspace order-svc --workspace payment-svc --workspace gateway-sim
COPY schemas schemas
COPY kit kit
COPY user-svc user-svc
COPY product-svc product-svc
COPY order-svc order-svc
COPY payment-svc payment-svc
COPY gateway-sim gateway-sim
USER node
