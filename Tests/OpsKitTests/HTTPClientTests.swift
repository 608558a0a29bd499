import Foundation
import OpsKit
import TestSupport
import Testing

@Suite struct HTTPClientTests {
    @Test func getsAndPostsWithStatusHeadersAndBody() async throws {
        let routes: [String: FixtureHTTPServer.Response] = [
            "/health": .init(body: #"{"status":"healthy"}"#),
            "/missing-ish": .init(status: 503, body: "draining", contentType: "text/plain"),
        ]
        try await withService({ try await FixtureHTTPServer.start(routes: routes) }) { server in
            let client = HTTPClient()
            let ok = try await client.get(server.url + "/health")
            #expect(ok.status == 200)
            #expect(ok.headers["content-type"] == "application/json")
            #expect(try JSONValue.parse(ok.body)["status"] == .string("healthy"))
            let unavailable = try await client.get(server.url + "/missing-ish")
            #expect(unavailable.status == 503)
            #expect(unavailable.text == "draining")
            let posted = try await client.post(server.url + "/health", body: Array("{}".utf8))
            #expect(posted.status == 200)
        }
    }

    @Test func runsManyRequestsConcurrentlyOnOneLoop() async throws {
        try await withService({ try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes()) }) { server in
            let client = HTTPClient()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<100 { group.addTask { try await client.get(server.url + "/ready").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 100)
            #expect(statuses.allSatisfy { $0 == 200 })
        }
    }

    @Test func aHungEndpointTimesOutWithoutDelayingOthers() async throws {
        try await withService({ try BlackHoleServer() }) { hole in
            try await withService({ try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes()) }) { server in
                let client = HTTPClient()
                async let hung = Result(catching: { try await client.get(hole.url + "/health", timeout: .milliseconds(400)) })
                let fast = try await client.get(server.url + "/health", timeout: .seconds(2))
                #expect(fast.status == 200)
                switch await hung {
                case .success: Issue.record("a silent server must time out")
                case .failure(let error):
                    let ops = try #require(error as? OpsError)
                    #expect(ops.code == .timedOut)
                    #expect(ops.description == "timed out after 400 ms at \(hole.url)/health")
                }
            }
        }
    }

    @Test func refusedConnectionsAndCredentialsInErrors() async throws {
        let port = try FreePort.next()
        do {
            _ = try await HTTPClient().get("http://admin:Top-Secret@127.0.0.1:\(port)/stats")
            Issue.record("nothing listens there")
        } catch let error as OpsError {
            #expect(error.code == .connectionRefused)
            #expect(error.description == "connection refused at http://admin:***@127.0.0.1:\(port)/stats")
        }
    }

    @Test func talksHTTPOverAUnixSocket() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let socket = directory.file("api.sock")
        try await withService({ try await FixtureHTTPServer.start(routes: ["/version": .init(body: #"{"v":1}"#)], unixSocket: socket) }) { _ in
            let response = try await HTTPClient().execute(HTTPRequest(url: "http://localhost/version", unixSocketPath: socket))
            #expect(response.status == 200)
            #expect(response.text == #"{"v":1}"#)
        }
    }

    @Test func selfSignedTLSNeedsTheInsecureSwitch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (certificate, key) = try CertificateFactory.selfSigned(commonName: "localhost", expiresIn: 90 * 86_400)
        let pem = try directory.write("haproxy.pem", certificate + key)
        try await withService({ try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes()) }) { server in
            try await withService({ try await HAProxyServer.start(servers: [("ws1", server.port)], tlsCertificate: pem) }) { haproxy in
                let url = "https://127.0.0.1:\(haproxy.frontendPort)/health"
                do {
                    _ = try await HTTPClient().get(url)
                    Issue.record("an unknown CA must be refused by default")
                } catch let error as OpsError {
                    #expect(error.code == .tls)
                }
                let response = try await HTTPClient().get(url, insecureTLS: true)
                #expect(response.status == 200)
            }
        }
    }
}
