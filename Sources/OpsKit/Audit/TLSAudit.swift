import Foundation

/// What HAProxy actually serves, probed from outside rather than read from its file: TLS 1.2+
/// only, HSTS on the HTTPS answers, and plain HTTP answered with a 301 to HTTPS.
struct TLSAudit {
    /// The clients' URL (haproxy.frontend), wss:// or ws://.
    var frontend: String
    /// Where plain HTTP is answered; by default port 80 of the frontend's host.
    var httpURL: String?

    /// The guide's reference: a year at least (HSTS preload lists ask for that too).
    static let minimumHSTSAge = 31_536_000

    func findings(in environment: ProbeEnvironment) async -> [Finding] {
        guard let url = URL(string: frontend), let scheme = url.scheme?.lowercased(), let host = url.host else {
            return [Finding("tls", "frontend", .unknown, "haproxy.frontend is not a URL", observed: frontend, source: AuditSource.tls)]
        }
        guard scheme == "wss" || scheme == "https" else {
            return [Finding("tls", "frontend", .critical, "clients connect without TLS", observed: "haproxy.frontend is \(frontend)",
                recommended: "wss://", source: AuditSource.tls, fix: "bind :443 ssl crt ... in HAProxy, and haproxy.frontend: wss://HOST/ws")]
        }
        let port = url.port ?? 443
        let https = "https://\(url.host(percentEncoded: false).map { $0.contains(":") ? "[\($0)]" : $0 } ?? host):\(port)"
        async let versions = protocolVersions(host: host, port: port, in: environment)
        async let hsts = strictTransportSecurity(https + (url.path.isEmpty ? "/" : url.path), in: environment)
        async let redirect = httpRedirect(httpURL ?? "http://\(https.dropFirst("https://".count).split(separator: ":").dropLast().joined(separator: ":")):80/", in: environment)
        return await versions + [hsts, redirect]
    }

    func protocolVersions(host: String, port: Int, in environment: ProbeEnvironment) async -> [Finding] {
        let endpoint = "\(host):\(port)"
        do {
            let modern = try await TLSVersionProbe.modern(host: host, port: port, timeout: environment.timeout, pool: environment.pool)
            let legacy = try await TLSVersionProbe.legacy(host: host, port: port, timeout: environment.timeout, pool: environment.pool)
            var findings: [Finding] = []
            switch modern {
            case .negotiated(let version):
                findings.append(Finding("tls", "modern", .ok, "TLS served", observed: "\(endpoint) negotiated \(version)", source: AuditSource.tls))
            case .refused(let reason):
                findings.append(Finding("tls", "modern", .critical, "no TLS 1.2 or 1.3 handshake completes", observed: "\(endpoint): \(reason)",
                    source: AuditSource.tls, fix: "HAProxy's bind line: ssl crt PEM (and whisperctl cert check)"))
            }
            switch legacy {
            case .negotiated(let version):
                findings.append(Finding("tls", "minimum-version", .critical, "\(version) is accepted", observed: "\(endpoint) completed a \(version) handshake",
                    recommended: "TLS 1.2 and later only", source: AuditSource.tls,
                    fix: "global: ssl-default-bind-options ssl-min-ver TLSv1.2 (docker/haproxy/haproxy.prod.cfg)"))
            case .refused(let reason):
                findings.append(Finding("tls", "minimum-version", .ok, "TLS 1.0 and 1.1 refused", observed: "\(endpoint): \(reason)", source: AuditSource.tls))
            }
            return findings
        } catch {
            return [Finding("tls", "minimum-version", .unknown, "cannot reach the HTTPS frontend to probe TLS", observed: "\(error)", source: AuditSource.tls)]
        }
    }

    func strictTransportSecurity(_ url: String, in environment: ProbeEnvironment) async -> Finding {
        do {
            let response = try await environment.http.get(url, timeout: environment.timeout, insecureTLS: true)
            guard let header = response.headers["strict-transport-security"] else {
                return Finding("tls", "hsts", .warning, "HTTPS answers carry no Strict-Transport-Security", observed: "GET \(url): \(response.status), no HSTS header",
                    recommended: "max-age=\(Self.minimumHSTSAge) or more", source: AuditSource.headers,
                    fix: "http-response set-header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" in the HTTPS frontend")
            }
            let age = header.split(separator: ";").compactMap { part -> Int? in
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                return pair.count == 2 && pair[0].lowercased() == "max-age" ? Int(pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))) : nil
            }.first ?? 0
            guard age >= Self.minimumHSTSAge else {
                return Finding("tls", "hsts", .warning, "HSTS max-age is shorter than a year", observed: "Strict-Transport-Security: \(header)",
                    recommended: "max-age=\(Self.minimumHSTSAge) or more", source: AuditSource.headers, fix: "Strict-Transport-Security \"max-age=63072000; includeSubDomains\"")
            }
            return Finding("tls", "hsts", .ok, "HSTS served", observed: "Strict-Transport-Security: \(header)", source: AuditSource.tls)
        } catch {
            return Finding("tls", "hsts", .unknown, "cannot fetch an HTTPS answer to read its headers", observed: "GET \(url): \(error)", source: AuditSource.tls)
        }
    }

    func httpRedirect(_ url: String, in environment: ProbeEnvironment) async -> Finding {
        do {
            let response = try await environment.http.get(url, timeout: environment.timeout)
            let location = response.headers["location"] ?? ""
            if (response.status == 301 || response.status == 308) && location.lowercased().hasPrefix("https://") {
                return Finding("tls", "http-redirect", .ok, "plain HTTP is redirected to HTTPS", observed: "GET \(url): \(response.status) → \(location)", source: AuditSource.tls)
            }
            return Finding("tls", "http-redirect", .warning, "plain HTTP is not redirected to HTTPS with a 301",
                observed: "GET \(url): \(response.status)\(location.isEmpty ? "" : " → \(location)")", recommended: "301 to https://", source: AuditSource.tls,
                fix: "http-request redirect scheme https code 301 in the port-80 frontend")
        } catch let error as OpsError where error.code == .connectionRefused {
            // Nothing answering plain HTTP is safe, but then browsers typing the bare name get nothing.
            return Finding("tls", "http-redirect", .info, "nothing answers plain HTTP", observed: "GET \(url): \(error)", source: AuditSource.tls,
                fix: "a port-80 frontend that redirects: http-request redirect scheme https code 301 (--http-url if it is elsewhere)")
        } catch {
            return Finding("tls", "http-redirect", .unknown, "plain HTTP did not answer", observed: "GET \(url): \(error)", source: AuditSource.tls)
        }
    }
}
