import Foundation
import TestSupport
import Testing

/// READ_TIMEOUT and WRITE_TIMEOUT: slow or stuck clients cannot hold the server's resources.
@Suite struct TimeoutTests {
    @Test func aStalledHTTPRequestIsClosedAfterTheReadTimeout() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["READ_TIMEOUT": "300ms"]) }) { server in
            let port = server.port
            let closedAfter = try await Offload.run { () throws -> Duration in
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { throw SupportError("connect failed") }
                var limit = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                let partial = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                _ = partial.withCString { send(fd, $0, strlen($0), 0) }
                let started = ContinuousClock.now
                var byte: UInt8 = 0
                let received = recv(fd, &byte, 1, 0)
                guard received == 0 else { throw SupportError("expected the server to close, recv returned \(received)") }
                return ContinuousClock.now - started
            }
            #expect(closedAfter < .seconds(3))
        }
    }

    @Test func anIdleWebSocketOutlivesTheReadTimeout() async throws {
        try await withService({ try await WhisperServerProcess.start(environment: ["READ_TIMEOUT": "300ms"]) }) { server in
            let client = try await ChatClient(server)
            try await client.expect("welcome")
            try await Task.sleep(for: .seconds(1))
            try await client.send(#"{"type":"ping"}"#)
            try await client.expect("pong")
        }
    }

    @Test func aClientThatStopsReadingIsClosedAfterTheWriteTimeout() async throws {
        let environment = ["WRITE_TIMEOUT": "500ms", "MAX_MSGS_PER_10S": "100000", "MAX_BYTES_PER_10S": "100000000"]
        try await withService({ try await WhisperServerProcess.start(environment: environment) }) { server in
            let (stuck, sender, _) = try await matchedPair(server, interests: #"["slow"]"#)
            await stuck.socket.stopReading()
            let text = String(repeating: "x", count: 1900)
            // Several MB: more than the kernel's socket buffers and our 64 KiB high water mark.
            for _ in 0..<4000 {
                try await sender.send(#"{"type":"message","text":"\#(text)"}"#)
            }
            try await eventually("the stuck client is closed") {
                (try? await server.metric(#"whisper_disconnections_total{reason="write_timeout"}"#)) == 1
            }
            try await sender.expect("ack")
        }
    }
}
