extension ServerConfiguration {
    /// One environment variable as `--help` lists it.
    struct Variable {
        var name: String
        var defaultValue: String
        var meaning: String
    }

    /// Every variable the server reads, with its default (docs/server.md and docs/cluster.md say more).
    static let variables: [Variable] = [
        Variable(name: "LISTEN_ADDR", defaultValue: ":8080", meaning: "[host]:port to listen on"),
        Variable(name: "SERVER_NAME", defaultValue: "host name", meaning: "reported in welcome and /health"),
        Variable(name: "MAX_CONNECTIONS", defaultValue: "100000", meaning: "upgrades beyond it get 503"),
        Variable(name: "MAX_CONNS_PER_IP", defaultValue: "50", meaning: "per client address; beyond it 429"),
        Variable(name: "MAX_MSGS_PER_10S", defaultValue: "200", meaning: "messages per connection per 10 s"),
        Variable(name: "MAX_BYTES_PER_10S", defaultValue: "1048576", meaning: "bytes per connection per 10 s"),
        Variable(name: "READ_TIMEOUT", defaultValue: "10s", meaning: "an HTTP connection silent this long is closed"),
        Variable(name: "WRITE_TIMEOUT", defaultValue: "10s", meaning: "a client that stops reading this long is closed"),
        Variable(name: "WHISPER_VERSION", defaultValue: ChatServer.version, meaning: "the version /health reports (a release name; rollout --expect-version checks it)"),
        Variable(name: "DRAIN_GRACE", defaultValue: "3s", meaning: "on SIGTERM, /ready is 503 this long before evictions"),
        Variable(name: "DRAIN_SPREAD", defaultValue: "10s", meaning: "evictions are spread over this long"),
        Variable(name: "DRAIN_TIMEOUT", defaultValue: "30s", meaning: "the drain ends after this long in any case"),
        Variable(name: "MATCH_TIMEOUT", defaultValue: "30s", meaning: "a user queued this long gets no_match"),
        Variable(name: "MATCH_FALLBACK", defaultValue: "5s", meaning: "after this long anyone is a match"),
        Variable(name: "HEARTBEAT_INTERVAL", defaultValue: "30s", meaning: "server pings a silent connection"),
        Variable(name: "HEARTBEAT_GRACE", defaultValue: "10s", meaning: "silent past interval + grace: closed 1001"),
        Variable(name: "BLOCKED_WORDS_FILE", defaultValue: "built-in list", meaning: "one word or phrase per line"),
        Variable(name: "IP_HASH_SALT", defaultValue: "whisper", meaning: "salt of the SHA-256 IP addresses are stored as"),
        Variable(name: "LOG_LEVEL", defaultValue: "info", meaning: "trace|debug|info|notice|warning|error|critical"),
        Variable(name: "LOG_FORMAT", defaultValue: "json", meaning: "json|text, one line per event on stderr"),
        Variable(name: "EVENT_LOOP_THREADS", defaultValue: "core count", meaning: "SwiftNIO event loops"),
        Variable(name: "REDIS_ADDR", defaultValue: "(unset)", meaning: "host:port or redis://[:password@]host:port[/db]; with NATS_URL: shared state"),
        Variable(name: "REDIS_PASSWORD", defaultValue: "(unset)", meaning: "overrides a password in REDIS_ADDR"),
        Variable(name: "REDIS_TIMEOUT", defaultValue: "2s", meaning: "an unanswered Redis command drops the connection"),
        Variable(name: "NATS_URL", defaultValue: "(unset)", meaning: "nats://[user:password@|token@]host:port; several, comma-separated, for a cluster"),
        Variable(name: "NATS_PING_INTERVAL", defaultValue: "2s", meaning: "NATS keep-alive; two unanswered drop it"),
        Variable(name: "DATABASE_URL", defaultValue: "(unset)", meaning: "postgres://user:password@host:5432/db, for abuse reports"),
        Variable(name: "MIGRATIONS_DIR", defaultValue: "migrations", meaning: "for --migrate"),
        Variable(name: "REPORT_QUEUE_LIMIT", defaultValue: "10000", meaning: "reports kept in memory while PostgreSQL is down"),
        Variable(name: "RESUME_WINDOW", defaultValue: "60s", meaning: "how long a dropped session may be resumed; 0s: off"),
        Variable(name: "RESUME_BUFFER", defaultValue: "256", meaning: "messages kept per session for a resume"),
        Variable(name: "REPORTS_TO_BAN", defaultValue: "3", meaning: "reports against one IP hash in 24 h that ban it"),
        Variable(name: "BAN_DURATION", defaultValue: "24h", meaning: "how long a ban lasts"),
        Variable(name: "TRUSTED_PROXIES", defaultValue: "(none)", meaning: "addresses/CIDRs whose X-Forwarded-For is believed"),
    ]

    static var usage: String {
        let width = variables.map(\.name.count).max() ?? 0
        let defaultWidth = variables.map(\.defaultValue.count).max() ?? 0
        let rows = variables.map { variable in
            "  " + variable.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
                + variable.defaultValue.padding(toLength: defaultWidth + 2, withPad: " ", startingAt: 0) + variable.meaning
        }
        return """
            USAGE: whisper-server [--migrate | --version | --help]

            The Whisper chat server: WebSocket chat on /ws, and /health, /ready, /live, /metrics.
            Configured by environment variables; an invalid value exits 78 naming the variable.
            Serves until SIGTERM or SIGINT, then drains (clients resume on another instance).

            OPTIONS:
              --migrate   apply pending migrations from MIGRATIONS_DIR to DATABASE_URL, then exit
              --version   print the version
              --help      this text

            ENVIRONMENT (name, default, meaning):
            \(rows.joined(separator: "\n"))

            EXAMPLES:
              LISTEN_ADDR=:8080 whisper-server
              REDIS_ADDR=redis:6379 NATS_URL=nats://nats:4222 SERVER_NAME=ws-1 whisper-server
              DATABASE_URL=postgres://whisper:secret@db:5432/whisper whisper-server --migrate
            """
    }
}
