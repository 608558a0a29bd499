import Foundation
import OpsKit
import TestSupport
import Testing

@Suite struct InventoryTests {
    static let sample = """
        deployment: prod-eu
        servers:
          - name: ws1
            url: http://10.0.0.11:8080
          - name: ws2
            url: ${WS2_URL}
        haproxy:
          stats_url: http://10.0.0.2:8404/haproxy/stats
          runtime_api: 10.0.0.2:9999
          backend: ws_servers
        redis:
          addr: 10.0.0.3:6379
          password: ${REDIS_SECRET:-fallback}
        nats:
          url: nats://10.0.0.4:4222
          monitor_url: http://10.0.0.4:8222
        certs:
          - /etc/haproxy/certs/whisper.pem
        """

    func load(_ yaml: String?, dotenv: String? = nil, environment: [String: String] = [:], flags: [ConfigKey: ConfigValue] = [:]) throws -> Inventory {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        if let yaml { try directory.write("whisperctl.yml", yaml) }
        if let dotenv { try directory.write(".env", dotenv) }
        return try InventoryLoader(flags: flags, environment: environment, workingDirectory: directory.path).load()
    }

    @Test func readsEveryKeyWithItsLine() throws {
        let inventory = try load(Self.sample, environment: ["WS2_URL": "http://10.0.0.12:8080"])
        #expect(inventory.deployment == "prod-eu")
        #expect(inventory.servers.map(\.name) == ["ws1", "ws2"])
        #expect(inventory.servers[1].url == "http://10.0.0.12:8080")
        #expect(inventory.servers[1].source == .file(path: "whisperctl.yml", line: 5))
        #expect(inventory.haproxyRuntimeAPI == "10.0.0.2:9999")
        #expect(inventory.redisPassword == "fallback")
        #expect(inventory.source(of: .redisAddr) == .file(path: "whisperctl.yml", line: 12))
        #expect(inventory.certs.map(\.path) == ["/etc/haproxy/certs/whisper.pem"])
        #expect(inventory.postgresURL == nil, "the file names no PostgreSQL: not configured, not the local default")
        #expect(inventory.unconfiguredComponents == [.postgresURL])
        #expect(inventory.diagnostics.isEmpty)
    }

    @Test func precedenceIsFlagsThenEnvironmentThenFileThenDotenvThenDefaults() throws {
        let yaml = "redis:\n  addr: file:6379\nnats:\n  url: nats://file:4222\n"
        let dotenv = "REDIS_ADDR=dotenv:6379\nNATS_URL=nats://dotenv:4222\nDATABASE_URL=postgres://u:dotenv-pw@dotenv/db\n"
        let both = try load(yaml, dotenv: dotenv, environment: ["REDIS_ADDR": "env:6379"],
            flags: [.redisAddr: ConfigValue(.scalar("flag:6379"), source: .flag("--redis"))])
        #expect(both.redisAddr == "flag:6379")
        #expect(both.source(of: .redisAddr) == .flag("--redis"))
        let noFlag = try load(yaml, dotenv: dotenv, environment: ["REDIS_ADDR": "env:6379"])
        #expect(noFlag.redisAddr == "env:6379")
        #expect(noFlag.source(of: .redisAddr) == .environment("REDIS_ADDR"))
        #expect(noFlag.natsURL == "nats://file:4222")
        #expect(noFlag.postgresURL == "postgres://u:dotenv-pw@dotenv/db")
        #expect(noFlag.source(of: .postgresURL) == .dotenv(path: ".env", line: 3))
        let defaults = try load(nil)
        #expect(defaults.redisAddr == "127.0.0.1:6379")
        #expect(defaults.configPath == nil)
    }

    @Test func composesTheDatabaseURLFromPostgresVariables() throws {
        let inventory = try load(nil, dotenv: "POSTGRES_USER=whisper_prod\nPOSTGRES_PASSWORD='p@ss word'\nPOSTGRES_DB=whisper\n")
        #expect(inventory.postgresURL == "postgres://whisper_prod:p%40ss%20word@127.0.0.1:5432/whisper?sslmode=disable")
        let info = try PostgresConnectionInfo(parsing: inventory.postgresURL!)
        #expect(info.user == "whisper_prod")
        #expect(info.hasPassword)
    }

    @Test func expandsVariablesFromDotenvWhenTheEnvironmentLacksThem() throws {
        let inventory = try load("redis:\n  password: ${REDIS_PASSWORD}\n", dotenv: "export REDIS_PASSWORD=\"from-dotenv\" \n")
        #expect(inventory.redisPassword == "from-dotenv")
        let environmentWins = try load("redis:\n  password: ${REDIS_PASSWORD}\n", dotenv: "REDIS_PASSWORD=from-dotenv\n", environment: ["REDIS_PASSWORD": "from-env"])
        #expect(environmentWins.redisPassword == "from-env")
    }

    @Test func unsetVariablesAndUnknownKeysAreReportedWithLines() throws {
        let inventory = try load("deployment: x\nredis:\n  adr: h:1\n  password: ${NOPE}\nextra: 1\n")
        let messages = inventory.diagnostics.map(\.description)
        #expect(messages.contains("whisperctl.yml:3: error: unknown key 'redis.adr' (did you mean 'redis.addr'?)"))
        #expect(messages.contains("whisperctl.yml:4: error: redis.password: ${NOPE} is not set in the environment or .env"))
        #expect(messages.contains { $0.hasPrefix("whisperctl.yml:5: error: unknown key 'extra'") })
    }

    @Test func malformedYAMLFailsWithFileAndLine() throws {
        do {
            _ = try load("deployment: x\nservers:\n  - name: ws1\n    url: http://a\n   - name: [broken\n")
            Issue.record("broken YAML must not load")
        } catch let error as ConfigError {
            #expect(error.description.hasPrefix("whisperctl.yml:5:4: error: invalid YAML"), "file, line and column")
        }
        do {
            _ = try load("deployment: x\nredis:\n\taddr: h:1\n")
            Issue.record("a tab must not load")
        } catch let error as ConfigError {
            #expect(error.description.hasPrefix("whisperctl.yml:3:"), "\(error)")
            #expect(error.description.contains("YAML does not allow tabs for indentation: use spaces"), "\(error)")
        }
        do {
            _ = try load("servers: http://just-a-string\n")
            Issue.record("a scalar is not a server list")
        } catch let error as ConfigError {
            #expect(error.description == "whisperctl.yml:1: error: servers: expected a list of {name, url}")
        }
        do {
            _ = try load("servers:\n  - url: http://a:8080\n")
            Issue.record("a server needs a name")
        } catch let error as ConfigError {
            #expect(error.description.hasPrefix("whisperctl.yml:2: error: servers[0].name: missing"))
        }
        #expect(throws: ConfigError.self) { try load("a: 1\na: 2\n") }
    }

    @Test func theLocalStacksAddressesStandInOnlyWhileNothingDescribesADeployment() throws {
        let bare = try load(nil)
        #expect(bare.redisAddr == "127.0.0.1:6379" && bare.natsURL == "nats://127.0.0.1:4222" && bare.servers.map(\.name) == ["ws1"])
        #expect(bare.unconfiguredComponents == [.haproxyRuntimeAPI])
        // One component named in the environment: the others are not configured, and the lock
        // cannot land on a Redis nobody named.
        let onlyPostgres = try load(nil, environment: ["DATABASE_URL": "postgres://u@10.0.0.5:5432/db"])
        #expect(onlyPostgres.postgresURL == "postgres://u@10.0.0.5:5432/db")
        #expect(onlyPostgres.redisAddr == nil && onlyPostgres.natsURL == nil && onlyPostgres.haproxyStatsURL == nil && onlyPostgres.servers.isEmpty)
        #expect(try OperationsLock.backend(for: onlyPostgres) is PostgresLockBackend)
        let onlyServers = try load("servers:\n  - name: a\n    url: http://10.0.0.9:8080\n")
        #expect(onlyServers.redisAddr == nil && onlyServers.postgresURL == nil && onlyServers.natsMonitorURL == nil)
        #expect(try OperationsLock.backend(for: onlyServers) is FileLockBackend)
        // Names that are not addresses describe nothing.
        #expect(try load(nil, environment: ["REDIS_PASSWORD": "x"]).redisAddr == "127.0.0.1:6379")
    }

    @Test func aNullSectionOrKeySwitchesItOff() throws {
        let inventory = try load("redis: ~\nnats:\n  monitor_url: ~\naudit:\n  log: /var/log/whisperctl/audit.log\n")
        #expect(inventory.redisAddr == nil)
        #expect(try inventory.redisAddress() == nil)
        #expect(inventory.natsMonitorURL == nil)
        #expect(inventory.natsURL == nil, "an inventory exists: what it does not name is not configured")
        #expect(inventory.auditLogPath == "/var/log/whisperctl/audit.log")
        #expect(try load(nil, environment: ["WHISPERCTL_AUDIT_LOG": "/tmp/a.log"]).auditLogPath == "/tmp/a.log")
    }

    @Test func anExplicitConfigThatDoesNotExistIsAnError() throws {
        #expect(throws: ConfigError.self) {
            try InventoryLoader(explicitPath: "/nonexistent/whisperctl.yml", environment: [:]).load()
        }
        #expect(throws: ConfigError.self) {
            try InventoryLoader(environment: ["WHISPERCTL_CONFIG": "/nonexistent/w.yml"]).load()
        }
    }

    @Test func malformedDotenvNamesTheLine() throws {
        do {
            _ = try load(nil, dotenv: "GOOD=1\nthis line is wrong\n")
            Issue.record("must fail")
        } catch let error as ConfigError {
            #expect(error.description == ".env:2: error: expected KEY=value")
        }
    }

    @Test func validatorFindsMalformedValuesAndMissingFiles() throws {
        let yaml = """
            servers:
              - name: ws1
                url: 10.0.0.1:8080
              - name: ws1
                url: http://10.0.0.2:8080
            haproxy:
              stats_url: ftp://x/stats
              config: /nonexistent/haproxy.cfg
            redis:
              addr: host:notaport
            nats:
              url: http://wrong-scheme:4222
            postgres:
              url: postgres://u:pw@h:bad/db
            certs:
              - /nonexistent/cert.pem
            """
        let problems = InventoryValidator().validate(try load(yaml)).map(\.description)
        let expected = [
            "whisperctl.yml:2: error: servers: server 'ws1': URL '10.0.0.1:8080' must start with http:// or https://",
            "whisperctl.yml:4: error: servers: duplicate server name 'ws1' (also at whisperctl.yml:2)",
            "whisperctl.yml:7: error: haproxy.stats_url: URL 'ftp://x/stats' must start with http:// or https://",
            "whisperctl.yml:8: error: haproxy.config: no such file: /nonexistent/haproxy.cfg",
            "whisperctl.yml:10: error: redis.addr: invalid Redis address 'host:notaport': port must be 1-65535",
            "whisperctl.yml:12: error: nats.url: URL 'http://wrong-scheme:4222' must start with nats:// or tls:// or ws:// or wss://",
            "whisperctl.yml:16: error: certs: no such file: /nonexistent/cert.pem",
        ]
        for line in expected { #expect(problems.contains(line), "\(line)\nin: \(problems)") }
        let pg = try #require(problems.first { $0.hasPrefix("whisperctl.yml:14: error: postgres.url: invalid PostgreSQL URL") })
        #expect(!pg.contains("pw"))
        #expect(InventoryValidator().validate(try load(nil)).isEmpty)
    }

    /// Every typed value is checked by the accessor the commands read it with: what config check
    /// passes, status, backup prune and migrate accept.
    @Test func typedValuesAreCheckedByTheCodeThatReadsThem() throws {
        let yaml = """
            deployment: typed
            migrations:
              lock_timeout: five
            backup:
              keep_days: thirty
              warn_age: 1day
              keep_last: 3
            """
        let problems = InventoryValidator().validate(try load(yaml)).map(\.description)
        #expect(problems.contains { $0.hasPrefix("whisperctl.yml:3: error: migrations.lock_timeout:") && $0.contains("'five'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("whisperctl.yml:5: error: backup.keep_days:") && $0.contains("'thirty'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("whisperctl.yml:6: error: backup.warn_age:") && $0.contains("'1day'") }, "\(problems)")
        #expect(!problems.contains { $0.contains("keep_last") })
        // "A bare number is seconds", and 0 is PostgreSQL's "no limit".
        let zero = try load("deployment: z\nmigrations:\n  lock_timeout: 0\n")
        #expect(InventoryValidator().validate(zero).isEmpty)
        #expect(try zero.duration(.migrationsLockTimeout, default: .seconds(5)) == .zero)
        let inverted = InventoryValidator().validate(try load("deployment: z\nbackup:\n  warn_age: 50h\n  critical_age: 26h\n"))
        #expect(inverted.contains { $0.description.contains("must be longer than backup.warn_age") }, "\(inverted)")
    }

    /// Every problem of a servers[] list at once, each misspelt key with its suggestion.
    @Test func everyProblemOfTheServersListAtOnce() throws {
        let yaml = """
            deployment: typos
            servers:
              - name: ws1
                ulr: http://10.0.0.1:8080
              - nmae: ws2
                url: http://10.0.0.2:8080
              - name: ws3
                url: http://10.0.0.3:8080
                restart: {driver: process, pidfile: /run/ws3.pid, start: "whisper-server"}
              - name: ws4
            """
        #expect {
            _ = try load(yaml)
        } throws: { error in
            let lines = (error as? ConfigError)?.diagnostics.map(\.description) ?? []
            let wanted = [
                "unknown key 'servers[0].ulr' (did you mean 'servers[0].url'?)", "servers[0].url: missing",
                "unknown key 'servers[1].nmae' (did you mean 'servers[1].name'?)", "servers[1].name: missing",
                "unknown key 'servers[2].restart.pidfile' (did you mean 'servers[2].restart.pid_file'?)",
                "servers[3].url: missing",
            ]
            let found = wanted.allSatisfy { line in lines.contains { $0.contains(line) } }
            if !found { Issue.record("\(lines)") }
            return found
        }
    }
}
