import Foundation
import OpsKit
import TestSupport
import Testing

/// The guide's upgrade check (`curl -k -i -H "Upgrade: websocket" ...`), as `wait.http` runs it.
@Suite struct WebSocketUpgradeProbeTests {
    /// RFC 6455's own example: the accept answers the key; another accept, or none, does not.
    @Test func theAcceptMustAnswerTheKey() throws {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let good = try WebSocketUpgradeProbe.parse(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", key: key, endpoint: "t")
        #expect(good.upgraded && good.summary == "HTTP 101 Switching Protocols")
        let wrong = try WebSocketUpgradeProbe.parse("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: AAAA\r\n\r\n", key: key, endpoint: "t")
        #expect(!wrong.upgraded && wrong.summary.contains("does not answer the key"))
        let refused = try WebSocketUpgradeProbe.parse("HTTP/1.0 503 Service Unavailable\r\n\r\n", key: key, endpoint: "t")
        #expect(refused.status == 503 && !refused.upgraded)
        #expect(throws: OpsError.self) { try WebSocketUpgradeProbe.parse("SSH-2.0-OpenSSH\r\n\r\n", key: key, endpoint: "t") }
    }

    /// Through a real HAProxy terminating TLS in front of a real whisper-server: 101, as the guide
    /// expects; a port nobody listens on is named.
    @Test func upgradesThroughHAProxyWithTLS() async throws {
        let directory = try TemporaryDirectory(prefix: "upgrade-tls")
        defer { directory.remove() }
        let (certificate, key) = try CertificateFactory.selfSigned(commonName: "localhost", expiresIn: 90 * 86_400)
        let pem = try directory.write("combined.pem", certificate + key)
        try await withService({ try await WhisperServerProcess.start() }) { server in
            try await withService({ try await HAProxyServer.start(servers: [("ws1", server.port)], tlsCertificate: pem) }) { haproxy in
                try await haproxy.waitFor(.up, servers: ["ws1"])
                let answer = try await WebSocketUpgradeProbe.probe("wss://localhost:\(haproxy.frontendPort)/ws")
                #expect(answer.upgraded, "\(answer.summary)")
                let plain = try await WebSocketUpgradeProbe.probe("ws://127.0.0.1:\(server.port)/ws")
                #expect(plain.upgraded, "\(plain.summary)")
            }
        }
        let port = try FreePort.next()
        await #expect(throws: OpsError.self) { try await WebSocketUpgradeProbe.probe("ws://127.0.0.1:\(port)/ws", timeout: .seconds(2)) }
    }
}
