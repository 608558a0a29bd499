import Foundation

/// The daily backup, with its verify, as a cron entry or a systemd timer for the deployment.
public struct BackupSchedule: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case cron, systemd }

    public var kind: Kind
    public var whisperctl: String
    public var configPath: String?
    /// Where the commands run: the inventory's directory (its `.env` is read from there when
    /// there is no inventory file).
    public var workingDirectory: String
    public var deployment: String
    /// "03:15".
    public var time: String
    public var user: String

    public init(
        kind: Kind, whisperctl: String, configPath: String?, workingDirectory: String, deployment: String, time: String = "03:15",
        user: String = "root"
    ) {
        self.kind = kind
        self.whisperctl = whisperctl
        self.configPath = configPath
        self.workingDirectory = workingDirectory
        self.deployment = deployment
        self.time = time
        self.user = user
    }

    var unitName: String { "whisperctl-backup-" + deployment.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }.map(String.init).joined() }

    private var command: String {
        let config = configPath.map { " --config \(Self.quote($0))" } ?? ""
        let binary = Self.quote(whisperctl)
        return "\(binary) backup\(config) --quiet --wait 30m && \(binary) backup verify\(config) --quiet"
    }

    /// Both commands' output to syslog (the braces: a pipe binds to the last command only);
    /// `%` escaped, as cron reads it as a newline.
    private var cronLine: String {
        "cd \(Self.quote(workingDirectory)) && { \(command); } 2>&1 | logger -t \(unitName)".replacingOccurrences(of: "%", with: "\\%")
    }

    /// One shell word: as it is when it is plain, else single-quoted.
    public static func quote(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_./:=@+-,".contains($0)) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// (path, content) of each file to write under `directory` (/etc/cron.d or /etc/systemd/system).
    public func files(directory: String? = nil) throws -> [(path: String, content: String)] {
        let parts = time.split(separator: ":")
        guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute) else {
            throw OpsError(.invalidInput, "--at expects HH:MM, got '\(time)'")
        }
        switch kind {
        case .cron:
            let base = directory ?? "/etc/cron.d"
            return [(
                "\(base)/\(unitName)",
                """
                # whisperctl: the daily backup of \(deployment), then its verify (written by whisperctl backup --install-schedule cron)
                SHELL=/bin/sh
                PATH=/usr/local/bin:/usr/bin:/bin
                \(minute) \(hour) * * * \(user) \(cronLine)

                """
            )]
        case .systemd:
            let base = directory ?? "/etc/systemd/system"
            return [
                ("\(base)/\(unitName).service", """
                    [Unit]
                    Description=whisperctl backup of \(deployment), then its verify
                    Wants=network-online.target
                    After=network-online.target

                    [Service]
                    Type=oneshot
                    User=\(user)
                    WorkingDirectory=\(workingDirectory)
                    ExecStart=/bin/sh -c "\(command.replacingOccurrences(of: "\"", with: "\\\""))"

                    """),
                ("\(base)/\(unitName).timer", """
                    [Unit]
                    Description=Daily whisperctl backup of \(deployment)

                    [Timer]
                    OnCalendar=*-*-* \(String(format: "%02d:%02d", hour, minute)):00
                    Persistent=true
                    RandomizedDelaySec=5m

                    [Install]
                    WantedBy=timers.target

                    """),
            ]
        }
    }

    /// What to run after writing the files.
    public var nextStep: String {
        switch kind {
        case .cron: return "cron picks the entry up by itself"
        case .systemd: return "run: systemctl daemon-reload && systemctl enable --now \(unitName).timer"
        }
    }
}
