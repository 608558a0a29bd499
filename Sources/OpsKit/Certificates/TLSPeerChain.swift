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
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw OpsError(.unreachable, "cannot resolve \(host)", endpoint: endpoint)
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw OpsError(.io, "socket: \(String(cString: strerror(errno)))", endpoint: endpoint) }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw OpsError(errno == ECONNREFUSED ? .connectionRefused : .unreachable, "cannot connect: \(String(cString: strerror(errno)))", endpoint: endpoint)
        }
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
