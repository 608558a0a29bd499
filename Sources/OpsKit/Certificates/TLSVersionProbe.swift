import COpenSSL
import Foundation
import NIOPosix

/// Which TLS versions a server accepts, by handshakes that offer only some of them.
public enum TLSVersionProbe {
    /// What one handshake found: the version negotiated, or why there was none.
    public enum Outcome: Sendable, Equatable {
        case negotiated(String)
        case refused(String)
    }

    /// A handshake offering only TLS 1.0 and 1.1, at security level 0 so this client does not
    /// refuse them itself: a server that completes it accepts a version the guide forbids.
    public static func legacy(host: String, port: Int, timeout: Duration, pool: NIOThreadPool) async throws -> Outcome {
        try await handshake(host: host, port: port, range: (TLS1_VERSION, TLS1_1_VERSION), ciphers: "DEFAULT@SECLEVEL=0", timeout: timeout, pool: pool)
    }

    /// A handshake offering TLS 1.2 and 1.3, as clients do.
    public static func modern(host: String, port: Int, timeout: Duration, pool: NIOThreadPool) async throws -> Outcome {
        try await handshake(host: host, port: port, range: (TLS1_2_VERSION, TLS1_3_VERSION), ciphers: nil, timeout: timeout, pool: pool)
    }

    /// Throws when the TCP connection fails: a verdict on TLS needs the server to have answered.
    static func handshake(
        host: String, port: Int, range: (Int32, Int32), ciphers: String?, timeout: Duration, pool: NIOThreadPool
    ) async throws -> Outcome {
        let endpoint = "\(host):\(port)"
        return try await pool.run(.abandon) {
            let fd = try BlockingSocket.connect(host: host, port: port, timeout: timeout, endpoint: endpoint)
            defer { close(fd) }
            guard let context = SSL_CTX_new(TLS_client_method()) else { throw OpsError(.tls, "SSL_CTX_new failed", endpoint: endpoint) }
            defer { SSL_CTX_free(context) }
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            guard wc_ssl_ctx_set_protocol_range(context, range.0, range.1) == 1 else {
                throw OpsError(.tls, "this OpenSSL cannot offer that TLS version range", endpoint: endpoint)
            }
            if let ciphers, SSL_CTX_set_cipher_list(context, ciphers) != 1 {
                throw OpsError(.tls, "this OpenSSL refuses the cipher list \(ciphers)", endpoint: endpoint)
            }
            guard let ssl = SSL_new(context) else { throw OpsError(.tls, "SSL_new failed", endpoint: endpoint) }
            defer { SSL_free(ssl) }
            SSL_set_fd(ssl, fd)
            if host.first?.isLetter == true { _ = wc_ssl_set_server_name(ssl, host) }
            ERR_clear_error()
            guard SSL_connect(ssl) == 1 else {
                let reason = CertificateReader.opensslError()
                return .refused(reason.isEmpty ? "the server ended the handshake" : reason)
            }
            defer { SSL_shutdown(ssl) }
            return .negotiated(String(cString: SSL_get_version(ssl)))
        }
    }
}
