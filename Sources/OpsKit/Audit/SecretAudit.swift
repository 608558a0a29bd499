import Foundation

/// Placeholder, default and short secrets wherever the deployment keeps them: its .env files,
/// the Compose file's environment, HAProxy's stats password and the inventory's own values;
/// Grafana's admin password and sign-up. Findings name the variable and the file, never the value.
struct SecretAudit {
    var envFiles: [DotEnv]
    var composeFiles: [ComposeFile]
    var haproxyConfig: String?
    var inventory: Inventory

    func findings() -> [Finding] {
        var problems: [(Finding.Severity, String)] = []
        var checked = 0
        for file in envFiles {
            for (name, entry) in file.entries.sorted(by: { $0.value.line < $1.value.line }) where SecretJudgement.isSecretName(name) {
                checked += 1
                if let (severity, problem) = SecretJudgement.judge(entry.value) { problems.append((severity, "\(name) in \(file.path):\(entry.line) \(problem)")) }
            }
        }
        for compose in composeFiles {
            for service in compose.services {
                for (name, value) in service.environment.sorted(by: { $0.key < $1.key }) where SecretJudgement.isSecretName(name) && !value.contains("${") {
                    checked += 1
                    if let (severity, problem) = SecretJudgement.judge(value) {
                        problems.append((severity, "services.\(service.name).environment.\(name) in \(compose.path) \(problem)"))
                    }
                }
            }
        }
        // A password read from a .env was judged with that file.
        if let password = inventory.redisPassword, let source = inventory.source(of: .redisPassword) {
            if case .dotenv = source {} else {
                checked += 1
                if let (severity, problem) = SecretJudgement.judge(password) { problems.append((severity, "redis.password (\(source.description)) \(problem)")) }
            }
        }
        var findings: [Finding] = []
        if checked == 0 {
            findings.append(Finding("secrets", "placeholders", .info, "no secret values to judge",
                observed: "no .env file, Compose environment or inventory password was found", source: AuditSource.secrets))
        } else if problems.isEmpty {
            findings.append(Finding("secrets", "placeholders", .ok, "no placeholder, default or short secret", observed: "\(checked) secret values judged",
                source: AuditSource.secrets))
        } else {
            let worst: Finding.Severity = problems.contains { $0.0 == .critical } ? .critical : .warning
            findings.append(Finding(
                "secrets", "placeholders", worst, "\(problems.count) of \(checked) secrets are placeholders, defaults or short",
                observed: problems.map(\.1).joined(separator: "; "), recommended: "\(SecretJudgement.minimumLength)+ random characters",
                source: AuditSource.secrets, fix: SecretJudgement.fix))
        }
        if let haproxyConfig { findings.append(statsPassword(haproxyConfig)) }
        findings += composeFiles.flatMap(grafana)
        return findings
    }

    /// The value of `${NAME}` from the audited .env files, and where it is set.
    func lookup(_ name: String) -> (value: String, place: String)? {
        for file in envFiles { if let entry = file.entries[name] { return (entry.value, "\(file.path):\(entry.line)") } }
        return nil
    }

    /// HAProxy's `stats auth user:password`: its default, a placeholder, or none at all.
    func statsPassword(_ path: String) -> Finding {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return Finding("haproxy", "stats-password", .unknown, "cannot read the HAProxy configuration", observed: path, source: AuditSource.secrets)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let auth = lines.enumerated().filter { $0.element.hasPrefix("stats auth ") }
        let statsOn = lines.contains { $0.hasPrefix("stats enable") || $0.hasPrefix("stats uri") }
        guard !auth.isEmpty else {
            return statsOn
                ? Finding("haproxy", "stats-password", .critical, "HAProxy's stats page has no password", observed: "\(path): stats enabled, no stats auth",
                    source: AuditSource.secrets, fix: "stats auth \"admin:${HAPROXY_STATS_PASSWORD}\" in the stats frontend")
                : Finding("haproxy", "stats-password", .info, "HAProxy serves no stats page", observed: path, source: AuditSource.secrets)
        }
        var problems: [(Finding.Severity, String)] = []
        for (offset, line) in auth {
            let credentials = line.dropFirst("stats auth ".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            let password = credentials.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            let place = "\(path):\(offset + 1)"
            if let name = ComposeFile.reference(in: password) {
                guard let (value, where_) = lookup(name) else {
                    problems.append((.info, "\(place) reads \(name) from HAProxy's environment; no audited .env sets it"))
                    continue
                }
                if let (severity, problem) = SecretJudgement.judge(value) { problems.append((severity, "\(place): \(name) (\(where_)) \(problem)")) }
            } else if let (severity, problem) = SecretJudgement.judge(password) {
                problems.append((severity, "\(place): the stats password written in the file \(problem)"))
            } else {
                problems.append((.info, "\(place): the stats password is written in the file; keep it in the environment instead"))
            }
        }
        let serious = problems.filter { $0.0 != .info }
        if serious.isEmpty {
            return Finding("haproxy", "stats-password", .ok, "HAProxy's stats page has a password that is not a default",
                observed: problems.isEmpty ? "\(path): stats auth from the environment" : problems.map(\.1).joined(separator: "; "), source: AuditSource.secrets)
        }
        return Finding(
            "haproxy", "stats-password", serious.contains { $0.0 == .critical } ? .critical : .warning, "HAProxy's stats password is weak",
            observed: serious.map(\.1).joined(separator: "; "), source: AuditSource.secrets,
            fix: "stats auth \"admin:${HAPROXY_STATS_PASSWORD}\", with HAPROXY_STATS_PASSWORD a new random value in .env")
    }

    /// Grafana: an admin password that is set and not `admin`, and public sign-up off.
    func grafana(_ compose: ComposeFile) -> [Finding] {
        compose.services.filter { $0.repository.hasSuffix("grafana") }.flatMap { service -> [Finding] in
            let component = "grafana \(service.name)"
            let files = service.envFiles.compactMap { path in envFiles.first { $0.path == path } }
            func setting(_ name: String) -> String? {
                if let value = service.environment[name] {
                    guard let reference = ComposeFile.reference(in: value) else { return value }
                    return lookup(reference)?.value ?? value
                }
                return files.compactMap { $0.entries[name]?.value }.first
            }
            var findings: [Finding] = []
            if let password = setting("GF_SECURITY_ADMIN_PASSWORD") ?? setting("GF_SECURITY_ADMIN_PASSWORD__FILE").map({ _ in "from a file" }) {
                let problem = password.contains("${") ? nil : SecretJudgement.judge(password)
                findings.append(Finding(
                    component, "admin-password", problem?.severity ?? .ok,
                    problem.map { _ in "Grafana's admin password is weak" } ?? "Grafana's admin password is set",
                    observed: "GF_SECURITY_ADMIN_PASSWORD \(problem?.problem ?? "is set") (\(compose.path) services.\(service.name))",
                    source: AuditSource.secrets, fix: problem == nil ? nil : "a new random GF_SECURITY_ADMIN_PASSWORD in .env"))
            } else {
                findings.append(Finding(component, "admin-password", .critical, "Grafana's default login is unchanged",
                    observed: "\(compose.path): services.\(service.name) sets no GF_SECURITY_ADMIN_PASSWORD", source: AuditSource.secrets,
                    fix: "add GF_SECURITY_ADMIN_PASSWORD to services.\(service.name).environment, its value a new random one from .env"))
            }
            let signUp = setting("GF_USERS_ALLOW_SIGN_UP")
            let open = signUp.map(YAMLTree.isTrue) ?? false
            findings.append(Finding(
                component, "sign-up", open ? .critical : (signUp == nil ? .info : .ok),
                open ? "Grafana lets anyone sign up" : "Grafana's public sign-up is off",
                observed: "GF_USERS_ALLOW_SIGN_UP \(signUp.map { "= \($0)" } ?? "unset (Grafana's default: false)") (\(compose.path) services.\(service.name))",
                source: AuditSource.application, fix: open || signUp == nil ? "environment: GF_USERS_ALLOW_SIGN_UP: \"false\"" : nil))
            return findings
        }
    }
}
