import Foundation

/// Redis: a password required and bound to private addresses. PostgreSQL: passwords stored and
/// checked with scram-sha-256. Both asked of the running servers.
struct DataStoreAudit {
    /// Redis answering PING before AUTH is critical; CONFIG GET bind judges the addresses.
    static func redis(_ address: RedisAddress, in environment: ProbeEnvironment) async -> [Finding] {
        let endpoint = address.description
        var anonymous = address
        anonymous.password = nil
        let requiresPassword: Bool
        do {
            let connection = try await RedisConnection.connect(to: anonymous, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            do {
                _ = try await connection.send(["PING"])
                requiresPassword = false
            } catch let error as OpsError where error.message.uppercased().contains("NOAUTH") || error.message.uppercased().contains("AUTH") {
                requiresPassword = true
            }
        } catch {
            return [Finding("redis", "password", .unknown, "Redis does not answer", observed: "\(endpoint): \(error)", source: AuditSource.application)]
        }
        var findings = [requiresPassword
            ? Finding("redis", "password", .ok, "Redis asks for a password", observed: "\(endpoint): PING without AUTH refused (NOAUTH)", source: AuditSource.application)
            : Finding("redis", "password", .critical, "Redis answers without a password", observed: "\(endpoint): PING without AUTH answered",
                source: AuditSource.application, fix: "requirepass (redis-server --requirepass \"$REDIS_PASSWORD\"), and redis.password in the inventory")]
        do {
            // A password Redis does not ask for would fail AUTH: ask as it answered.
            let connection = try await RedisConnection.connect(to: requiresPassword ? address : anonymous, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            let reply = try await connection.send(["CONFIG", "GET", "bind"])
            let bind = reply.array?.dropFirst().first?.string ?? ""
            findings.append(bindFinding(bind, endpoint: endpoint, requiresPassword: requiresPassword))
        } catch {
            findings.append(Finding("redis", "bind", .unknown, "cannot read Redis's bind addresses", observed: "CONFIG GET bind: \(error)",
                source: AuditSource.network))
        }
        return findings
    }

    static func bindFinding(_ bind: String, endpoint: String, requiresPassword: Bool) -> Finding {
        let addresses = bind.split(separator: " ").map { String($0.hasPrefix("-") ? $0.dropFirst() : $0) }
        let wildcard = addresses.isEmpty || addresses.contains { ["*", "0.0.0.0", "::", "::*"].contains($0) }
        let public_ = addresses.filter { !["*", "0.0.0.0", "::", "::*"].contains($0) && !isPrivate($0) }
        if !public_.isEmpty {
            return Finding("redis", "bind", requiresPassword ? .warning : .critical, "Redis listens on a public address",
                observed: "\(endpoint): bind \(bind)", recommended: "loopback or private addresses only", source: AuditSource.network,
                fix: "bind 127.0.0.1 -::1 (or the private address the servers use) in redis.conf")
        }
        if wildcard {
            return Finding("redis", "bind", requiresPassword ? .info : .critical,
                requiresPassword ? "Redis listens on every interface, with a password" : "Redis listens on every interface with no password",
                observed: "\(endpoint): bind \(bind.isEmpty ? "(every address)" : bind)", recommended: "loopback or private addresses only",
                source: AuditSource.network,
                fix: "on a host: bind 127.0.0.1 -::1 or the private address; in a container: only an internal network (audit's compose checks)")
        }
        return Finding("redis", "bind", .ok, "Redis listens on private addresses only", observed: "\(endpoint): bind \(bind)", source: AuditSource.network)
    }

    /// Loopback, RFC 1918, link-local and unique local addresses.
    static func isPrivate(_ address: String) -> Bool {
        if ListeningSocket.isLoopback(address) { return true }
        let lower = address.lowercased()
        if lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe80:") { return true }
        let octets = address.split(separator: ".").compactMap { Int($0) }
        guard octets.count == 4 else { return false }
        return octets[0] == 10 || (octets[0] == 172 && (16...31).contains(octets[1])) || (octets[0] == 192 && octets[1] == 168)
            || (octets[0] == 169 && octets[1] == 254)
    }

    /// password_encryption, and the authentication of each pg_hba rule when this role may read them.
    static func postgres(_ url: String, in environment: ProbeEnvironment) async -> [Finding] {
        let endpoint = (try? PostgresConnectionInfo(parsing: url))?.endpoint ?? "postgres"
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(url: url, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
        } catch {
            return [Finding("postgres", "authentication", .unknown, "PostgreSQL does not answer", observed: "\(endpoint): \(error)", source: AuditSource.application)]
        }
        defer { connection.close() }
        var findings: [Finding] = []
        do {
            let encryption = try await connection.query("SHOW password_encryption", timeout: environment.timeout).rows.first?[0].string ?? "?"
            findings.append(encryption == "scram-sha-256"
                ? Finding("postgres", "password-encryption", .ok, "passwords are stored as scram-sha-256", observed: "\(endpoint): password_encryption \(encryption)",
                    source: AuditSource.application)
                : Finding("postgres", "password-encryption", .warning, "new passwords are not stored as scram-sha-256",
                    observed: "\(endpoint): password_encryption \(encryption)", recommended: "scram-sha-256", source: AuditSource.application,
                    fix: "ALTER SYSTEM SET password_encryption = 'scram-sha-256'; SELECT pg_reload_conf(); then reset each password"))
        } catch {
            findings.append(Finding("postgres", "password-encryption", .unknown, "cannot read password_encryption", observed: "\(error)", source: AuditSource.application))
        }
        do {
            let rules = try await connection.query(
                "SELECT line_number, type, auth_method, coalesce(address, '') FROM pg_hba_file_rules WHERE error IS NULL ORDER BY line_number",
                timeout: environment.timeout)
            findings.append(hbaFinding(rules.rows.map { row in
                HBARule(line: row[0].int ?? 0, type: row[1].string ?? "", method: row[2].string ?? "", address: row[3].string ?? "")
            }, endpoint: endpoint))
        } catch {
            findings.append(Finding("postgres", "hba", .info, "cannot read pg_hba_file_rules as this role (superuser or pg_read_all_settings needed)",
                observed: "\(error)", source: AuditSource.application))
        }
        return findings
    }

    struct HBARule {
        var line: Int
        var type: String
        var method: String
        var address: String
    }

    /// Network rules must use scram-sha-256 (or certificates): trust and cleartext passwords
    /// are critical, md5 a warning. Local socket rules (peer, trust) are the host's business.
    static func hbaFinding(_ rules: [HBARule], endpoint: String) -> Finding {
        let network = rules.filter { $0.type.hasPrefix("host") }
        let critical = network.filter { ["trust", "password"].contains($0.method) }
        let weak = network.filter { $0.method == "md5" }
        let described = (critical + weak).map { "pg_hba line \($0.line): \($0.type) \($0.address.isEmpty ? "all" : $0.address) \($0.method)" }
        if !critical.isEmpty || !weak.isEmpty {
            return Finding("postgres", "hba", critical.isEmpty ? .warning : .critical,
                critical.isEmpty ? "network logins use md5" : "network logins without a password or in cleartext",
                observed: "\(endpoint): " + described.joined(separator: "; "), recommended: "scram-sha-256 on every host rule", source: AuditSource.application,
                fix: "pg_hba.conf: host all all ADDRESS scram-sha-256 (POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256); SELECT pg_reload_conf()")
        }
        return Finding("postgres", "hba", .ok, "network logins use \(Set(network.map(\.method)).sorted().joined(separator: ", ").nilIfEmpty ?? "no host rules")",
            observed: "\(endpoint): \(network.count) host rules", source: AuditSource.application)
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
