import Foundation

/// The files that hold secrets, as the filesystem and git see them: each .env at 0600 and kept
/// out of git, each PEM with a private key readable by its owner only.
struct FileModeAudit {
    var envFiles: [String]
    var pemFiles: [String]

    func findings() async -> [Finding] {
        var findings: [Finding] = []
        for path in envFiles {
            findings.append(mode(of: path, what: ".env", check: "env-mode", fix: "chmod 600 \(path)"))
            findings.append(await gitTracking(path))
        }
        var keys = 0
        for path in pemFiles {
            guard let data = FileManager.default.contents(atPath: path) else {
                findings.append(Finding("files", "pem-mode", .unknown, "cannot read a PEM file", observed: path, source: AuditSource.secrets))
                continue
            }
            guard String(decoding: data, as: UTF8.self).contains("PRIVATE KEY-----") else { continue }
            keys += 1
            findings.append(mode(of: path, what: "private key", check: "pem-mode", fix: "chmod 600 \(path)"))
        }
        if !pemFiles.isEmpty && keys == 0 {
            findings.append(Finding("files", "pem-mode", .info, "no private key among the PEM files", observed: pemFiles.joined(separator: ", "),
                source: AuditSource.secrets))
        }
        return findings
    }

    /// Readable by anyone is critical, by the group a warning.
    func mode(of path: String, what: String, check: String, fix: String) -> Finding {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return Finding("files", check, .unknown, "cannot stat the \(what)", observed: "\(path): \(String(cString: strerror(errno)))", source: AuditSource.secrets)
        }
        let mode = info.st_mode & 0o777
        let text = String(format: "%04o", mode)
        if mode & 0o007 != 0 {
            return Finding("files", check, .critical, "a \(what) anyone on the host can read", observed: "\(path) mode \(text)", recommended: "0600",
                source: AuditSource.secrets, fix: fix)
        }
        if mode & 0o070 != 0 {
            return Finding("files", check, .warning, "a \(what) its group can read", observed: "\(path) mode \(text)", recommended: "0600",
                source: AuditSource.secrets, fix: fix)
        }
        return Finding("files", check, .ok, "\(what) readable by its owner only", observed: "\(path) mode \(text)", source: AuditSource.secrets)
    }

    /// Tracked by git is critical (the secrets are in its history); in a work tree and not
    /// ignored, a warning (one `git add .` away).
    func gitTracking(_ path: String) async -> Finding {
        guard let git = HAProxyDiagnosis.executable("git") else {
            return Finding("files", "env-git", .unknown, "git is not installed: cannot tell whether git tracks the .env", observed: path, source: AuditSource.secrets)
        }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        do {
            let tracked = try await Subprocess.output(git, ["-C", directory.isEmpty ? "." : directory, "ls-files", "--error-unmatch", "--", name])
            if tracked.termination.succeeded {
                return Finding("files", "env-git", .critical, "git tracks the .env: its secrets are in the history", observed: path, source: AuditSource.secrets,
                    fix: "git rm --cached \(name) && echo \(name) >> .gitignore; then rotate every secret in it (the history keeps them)")
            }
            guard tracked.termination == .exited(1) else {
                return Finding("files", "env-git", .ok, "the .env is not in a git work tree", observed: path, source: AuditSource.secrets)
            }
            let ignored = try await Subprocess.output(git, ["-C", directory.isEmpty ? "." : directory, "check-ignore", "-q", "--", name])
            if ignored.termination.succeeded {
                return Finding("files", "env-git", .ok, "git ignores the .env", observed: path, source: AuditSource.secrets)
            }
            return Finding("files", "env-git", .warning, "the .env is in a git work tree and not ignored", observed: path, source: AuditSource.secrets,
                fix: "echo \(name) >> \(directory.isEmpty ? "." : directory)/.gitignore")
        } catch {
            return Finding("files", "env-git", .unknown, "git could not run", observed: "\(error)", source: AuditSource.secrets)
        }
    }

    /// The `crt` files of HAProxy's bind lines that exist on this host (a directory means every file in it).
    static func haproxyCertificates(_ configPath: String) -> [String] {
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else { return [] }
        var paths: [String] = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard words.first == "bind" else { continue }
            for (index, word) in words.enumerated() where word == "crt" && index + 1 < words.count {
                var isDirectory: ObjCBool = false
                let path = words[index + 1]
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    paths += ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                } else {
                    paths.append(path)
                }
            }
        }
        return paths
    }
}
