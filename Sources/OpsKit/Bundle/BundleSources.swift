import Foundation

/// Where each part of a support bundle is read from. Each returns its files, or a gap naming
/// the endpoint and why; a component the inventory does not configure is left out.
struct BundleSources: Sendable {
    let inventory: Inventory
    let environment: ProbeEnvironment
    let root: String

    func status() async -> BundleContents {
        var contents = BundleContents()
        contents.add("status.json", json: await StatusRunner(inventory: inventory, environment: environment).run().json)
        return contents
    }

    func diagnosis() async -> BundleContents {
        var contents = BundleContents()
        let outcome = await DeploymentDiagnosis(inventory: inventory).run(in: environment)
        var json = outcome.report.json
        if case .object(let pairs) = json {
            json = .object(pairs + [("tier", .string(outcome.tier.name)), ("tier_source", .string(outcome.tierSource))])
        }
        contents.add("diag.json", json: json)
        return contents
    }

    func metrics(snapshot: Int) async -> BundleContents {
        await withTaskGroup(of: BundleContents.self) { group in
            for server in inventory.servers {
                group.addTask {
                    var contents = BundleContents()
                    let name = "metrics/\(Self.fileName(server.name))-\(snapshot).txt"
                    do {
                        let response = try await environment.http.get(server.metricsURL, timeout: environment.timeout, insecureTLS: environment.insecureTLS)
                        guard response.isSuccess else { throw OpsError(.serverError, "HTTP \(response.status)", endpoint: server.metricsURL) }
                        contents.add(name, text: "# whisper bundle: \(server.metricsURL) at \(StatusReport.iso8601(Date()))\n" + response.text)
                    } catch {
                        contents.gap(name, Self.describe(error, at: server.metricsURL))
                    }
                    return contents
                }
            }
            var all = BundleContents()
            for await piece in group { all.merge(piece) }
            return all
        }
    }

    func haproxy() async -> BundleContents {
        var contents = BundleContents()
        if let text = inventory.haproxyRuntimeAPI, !text.isEmpty {
            do {
                let api = try HAProxyRuntimeAPI(parsing: text, timeout: environment.timeout)
                for (command, file) in [("show stat", "haproxy/show-stat.csv"), ("show info", "haproxy/show-info.txt"), ("show servers state", "haproxy/show-servers-state.txt")] {
                    do {
                        contents.add(file, text: try await api.execute(command))
                    } catch {
                        contents.gap(file, "\(command): " + Self.describe(error, at: "haproxy runtime API \(api.address)"))
                    }
                }
            } catch {
                contents.gap("haproxy", "haproxy.runtime_api: \(error)")
            }
        } else if let url = inventory.haproxyStatsURL, !url.isEmpty {
            let csv = HAProxyProbe(statsURL: url, backend: inventory.haproxyBackend).csvURL
            do {
                let response = try await environment.http.get(csv, timeout: environment.timeout, insecureTLS: environment.insecureTLS)
                guard response.isSuccess else { throw OpsError(.serverError, "HTTP \(response.status)", endpoint: csv) }
                contents.add("haproxy/stats.csv", text: response.text)
            } catch {
                contents.gap("haproxy/stats.csv", Self.describe(error, at: csv))
            }
        }
        return contents
    }

    func redis() async -> BundleContents {
        var contents = BundleContents()
        let address: RedisAddress
        do {
            guard let configured = try inventory.redisAddress() else { return contents }
            address = configured
        } catch {
            contents.gap("redis", "redis.addr: \(error)")
            return contents
        }
        do {
            let connection = try await RedisConnection.connect(to: address, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            contents.add("redis/info.txt", text: try await connection.send(["INFO", "all"]).string ?? "")
            let slowlog = try await connection.send(["SLOWLOG", "GET", "32"])
            contents.add("redis/slowlog.txt", text: slowlog.description + "\n")
        } catch {
            contents.gap("redis/info.txt", Self.describe(error, at: "redis \(address)"))
        }
        return contents
    }

    func nats() async -> BundleContents {
        var contents = BundleContents()
        guard let base = inventory.natsMonitorURL, !base.isEmpty else { return contents }
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        for page in ["varz", "connz?subs=1&limit=1024", "routez", "subsz"] {
            let name = "nats/\(page.prefix { $0 != "?" }).json"
            let url = "\(trimmed)/\(page)"
            do {
                let response = try await environment.http.get(url, timeout: environment.timeout, insecureTLS: environment.insecureTLS)
                guard response.isSuccess else { throw OpsError(.serverError, "HTTP \(response.status)", endpoint: url) }
                contents.add(name, text: response.text)
            } catch {
                contents.gap(name, Self.describe(error, at: url))
            }
        }
        return contents
    }

    func postgres() async -> BundleContents {
        var contents = BundleContents()
        guard let url = inventory.postgresURL, !url.isEmpty else { return contents }
        do {
            let connection = try await PostgresConnection.connect(url: url, timeout: environment.timeout, pool: environment.pool, onCancel: .abandon)
            defer { connection.close() }
            let activity = try await connection.query("""
                SELECT pid, datname, usename, application_name, client_addr::text, state, wait_event_type, wait_event,
                       backend_start::text, xact_start::text, query_start::text, state_change::text, left(query, 500) AS query
                FROM pg_stat_activity ORDER BY backend_start
                """)
            let database = try await connection.query("""
                SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit, deadlocks, temp_bytes,
                       conflicts, stats_reset::text
                FROM pg_stat_database WHERE datname = current_database()
                """)
            func rows(_ result: PostgresResult) -> JSONValue {
                .array(result.rows.map { row in
                    .object(zip(result.columns, row.values).map { column, value in (column.name, value.map(JSONValue.string) ?? .null) })
                })
            }
            contents.add("postgres/activity.json", json: .object([
                ("server_version", .int(connection.serverVersionNumber)),
                ("pg_stat_activity", rows(activity)), ("pg_stat_database", rows(database)),
            ]))
        } catch {
            contents.gap("postgres/activity.json", Self.describe(error, at: "postgres \(url)"))
        }
        return contents
    }

    /// The sysctls the playbook judges, as they are now, and the memory and load they run with.
    func kernel() -> BundleContents {
        var contents = BundleContents()
        let kernel = KernelDiagnosis(root: root, tier: CapacityTier(named: "100k")!)
        func read(_ relative: String) -> String? {
            try? String(contentsOfFile: (root as NSString).appendingPathComponent(relative), encoding: .utf8)
        }
        var lines: [String] = []
        for setting in kernel.settings {
            let path = "proc/sys/" + setting.key.replacingOccurrences(of: ".", with: "/")
            let value = read(path)?.trimmingCharacters(in: .whitespacesAndNewlines)
            lines.append("\(setting.key) = \(value ?? "(unreadable: /\(path))")")
        }
        contents.add("kernel/sysctl.txt", text: lines.joined(separator: "\n") + "\n")
        for file in ["proc/meminfo", "proc/loadavg", "proc/version"] {
            if let text = read(file) { contents.add("kernel/\((file as NSString).lastPathComponent).txt", text: text) } else { contents.gap("kernel/\(file)", "cannot read /\(file)") }
        }
        return contents
    }

    func logs(lines: Int) async -> BundleContents {
        let tail = LogTail(environment: environment)
        return await withTaskGroup(of: BundleContents.self) { group in
            for log in inventory.serviceLogs {
                group.addTask {
                    var contents = BundleContents()
                    let name = "logs/\(Self.fileName(log.service)).log"
                    do {
                        let source = try log.source()
                        let text = try await tail.lastLines(lines, of: source)
                        contents.add(name, text: text.isEmpty ? "" : text.joined(separator: "\n") + "\n")
                    } catch {
                        contents.gap(name, "\(log.service) logs (\(log.text)): \(error)")
                    }
                    return contents
                }
            }
            var all = BundleContents()
            for await piece in group { all.merge(piece) }
            return all
        }
    }

    func auditLog(lines: Int) async -> BundleContents {
        var contents = BundleContents()
        let path = inventory.auditLogPath
        guard FileManager.default.fileExists(atPath: path) else { return contents }
        do {
            let text = try await environment.pool.runIfActive { try LogTail.lastLines(lines, ofFile: path) }
            contents.add("audit.log", text: text.isEmpty ? "" : text.joined(separator: "\n") + "\n")
        } catch {
            contents.gap("audit.log", error)
        }
        return contents
    }

    /// An error that names its endpoint as it is; another with the endpoint in front.
    static func describe(_ error: any Error, at endpoint: String) -> String {
        if let error = error as? OpsError, error.endpoint != nil { return error.description }
        return "\(Redactor.redactURL(endpoint)): \(error)"
    }

    /// A service's name as a file name: anything but letters, digits, '.', '_' and '-' becomes '_'.
    static func fileName(_ name: String) -> String {
        let cleaned = String(name.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
        return cleaned.isEmpty || cleaned.hasPrefix(".") ? "_" + cleaned : cleaned
    }
}
