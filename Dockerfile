# syntax=docker/dockerfile:1
# Build stage: a static binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/impact-dev/impact/internal/version.Version=${VERSION}" \
      -o /out/impact ./cmd/impact \
 && mkdir -p /out/data

# Run stage: no shell, no package manager, non-root.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/impact /usr/local/bin/impact
# The store lives on a volume owned by the non-root user (the default
# store.path follows XDG_DATA_HOME: /var/lib/impact/impact/impact.db).
# Mount the config at /etc/impact/config.yaml. The API's default is a unix
# socket in the container; to reach it from outside, listen on 0.0.0.0:7878
# and set server.token (every TCP listen needs one).
COPY --from=build --chown=65532:65532 /out/data /var/lib/impact
ENV IMPACT_CONFIG=/etc/impact/config.yaml \
    XDG_DATA_HOME=/var/lib/impact
VOLUME ["/var/lib/impact"]
USER nonroot:nonroot
EXPOSE 7878
ENTRYPOINT ["/usr/local/bin/impact"]
CMD ["serve"]
