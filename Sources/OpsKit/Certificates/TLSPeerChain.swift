import COpenSSL
import Foundation
import NIOPosix

/// The certificate chain a TLS server presents, read with one handshake (no verification: the
/// point is to see what it sends, expired or not).
public enum TLSPeerChain {
    /// - Parameter serverName: SNI; by default the host when it is a name.
    public static func fetch(host: String, port: Int, serverName: String? = nil, timeout: Duration = .seconds(5), pool: NIOThreadPool = .singleton) async throws -> [X509Certificate] {
        let endpoint = "\(host):\(port)"
        return try await pool.run(.abandon) {
            try handshake(host: host, port: port, serverName: serverName ?? (host.first?.isLetter == true ? host : nil), timeout: timeout, endpoint: endpoint)
        }
    }

    private static func handshake(host: String, port: Int, serverName: String?, timeout: Duration, endpoint: String) throws -> [X509Certificate] {
        let fd = try BlockingSocket.connect(host: host, port: port, timeout: timeout, endpoint: endpoint)
        defer { close(fd) }
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw OpsError(.tls, "SSL_CTX_new failed", endpoint: endpoint) }
        defer { SSL_CTX_free(context) }
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        guard let ssl = SSL_new(context) else { throw OpsError(.tls, "SSL_new failed", endpoint: endpoint) }
        defer { SSL_free(ssl) }
        SSL_set_fd(ssl, fd)
        if let serverName { _ = wc_ssl_set_server_name(ssl, serverName) }
        ERR_clear_error()
        guard SSL_connect(ssl) == 1 else {
            throw OpsError(.tls, "TLS handshake failed: \(CertificateReader.opensslError())", endpoint: endpoint)
        }
        defer { SSL_shutdown(ssl) }
        guard let stack = SSL_get_peer_cert_chain(ssl) else { throw OpsError(.tls, "the server sent no certificate", endpoint: endpoint) }
        var chain: [X509Certificate] = []
        for index in 0..<OPENSSL_sk_num(stack) {
            guard let raw = OPENSSL_sk_value(stack, index) else { continue }
            let certificate = OpaquePointer(raw)
            X509_up_ref(certificate)
            chain.append(X509Certificate(owning: certificate, origin: "\(endpoint) #\(index)"))
        }
        return chain
    }
}
