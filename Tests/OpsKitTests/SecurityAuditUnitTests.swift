import Foundation
@testable import OpsKit
import Testing
import TestSupport

/// The audit's parsers and judgements on their own: /proc/net rows, published ports, secrets,
/// Redis bind lists, and the Compose file with its merge keys.
@Suite struct SecurityAuditUnitTests {
    @Test func procNetRowsDecodeToAddressesAndPorts() throws {
        let fixture = Repository.path("Tests/Fixtures/audit/insecure/proc/net")
        let v4 = ListeningSocket.parse(try String(contentsOfFile: fixture + "/tcp", encoding: .utf8), ipv6: false)
        #expect(v4.map(\.description) == ["0.0.0.0:80", "0.0.0.0:443", "0.0.0.0:6379", "127.0.0.1:5432"], "the established row is not listening")
        let v6 = ListeningSocket.parse(try String(contentsOfFile: fixture + "/tcp6", encoding: .utf8), ipv6: true)
        #expect(v6.map(\.description) == ["[::]:4222", "[::1]:8222"])
        #expect(v6.map(\.isLoopback) == [false, true])
        #expect(ListeningSocket.decode("0000000000000000FFFF00000100007F", ipv6: true) == "::ffff:127.0.0.1")
        #expect(ListeningSocket.parse("header\n 0: zz:0050 00000000:0000 0A\n 1: 00000000:GGGG 0 0A\n", ipv6: false).isEmpty)
    }

    /// A socket this test opens on loopback is in the kernel's own table, and judged local.
    @Test func aRealListeningSocketIsSeenOnLoopback() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0 && listen(fd, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let sockets = ListeningSocket.parse(try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8), ipv6: false)
        #expect(sockets.contains(ListeningSocket(address: "127.0.0.1", port: port)), "\(port) not in /proc/net/tcp")
        let findings = PortAudit(root: "/", allowed: [22, 80, 443]).findings()
        #expect(!findings.contains { $0.observed.contains("127.0.0.1:\(port)") }, "a loopback socket is not exposed")
    }

    @Test func publishedPortsNameTheirHostSide() {
        #expect(ComposeAudit.hostSide("80:80")! == ("0.0.0.0", "80"))
        #expect(ComposeAudit.hostSide("127.0.0.1:5432:5432")! == ("127.0.0.1", "5432"))
        #expect(ComposeAudit.hostSide("[::1]:6379:6379/tcp")! == ("::1", "6379"))
        #expect(ComposeAudit.hostSide("8080")! == ("0.0.0.0", "random"))
        #expect(ComposeFile.filledDefaults("${HTTP_PUBLISH:-80}:80") == "80:80")
        #expect(ComposeFile.filledDefaults("${IMAGE-whisper:latest}") == "whisper:latest")
        #expect(ComposeFile.filledDefaults("${REQUIRED:?set it}") == "${REQUIRED:?set it}")
        #expect(ComposeFile.reference(in: "admin:${HAPROXY_STATS_PASSWORD}") == "HAPROXY_STATS_PASSWORD")
    }

    @Test func secretsAreJudgedByShapeNeverShown() {
        #expect(SecretJudgement.judge("CHANGE_ME_postgres")?.severity == .critical)
        #expect(SecretJudgement.judge("admin")?.severity == .critical)
        #expect(SecretJudgement.judge("")?.severity == .critical)
        #expect(SecretJudgement.judge("short-but-mine")?.severity == .warning)
        #expect(SecretJudgement.judge(String(repeating: "ab", count: 20))?.severity == .warning)
        #expect(SecretJudgement.judge("Zq8v3LrT0pWm6NcY1sXe4HbK7uDj9GfA2") == nil)
        for value in ["CHANGE_ME_postgres", "short-but-mine"] {
            let problem = SecretJudgement.judge(value)?.problem ?? ""
            #expect(!problem.isEmpty && !problem.contains(value))
        }
        #expect(SecretJudgement.isSecretName("GF_SECURITY_ADMIN_PASSWORD") && !SecretJudgement.isSecretName("GF_SECURITY_ADMIN_PASSWORD_FILE"))
        #expect(!SecretJudgement.isSecretName("POSTGRES_USER"))
    }

    @Test func redisBindListsAreJudgedWithThePassword() {
        #expect(DataStoreAudit.bindFinding("127.0.0.1 -::1", endpoint: "r", requiresPassword: false).severity == .ok)
        #expect(DataStoreAudit.bindFinding("10.0.0.5", endpoint: "r", requiresPassword: true).severity == .ok)
        #expect(DataStoreAudit.bindFinding("* -::*", endpoint: "r", requiresPassword: true).severity == .info)
        #expect(DataStoreAudit.bindFinding("* -::*", endpoint: "r", requiresPassword: false).severity == .critical)
        #expect(DataStoreAudit.bindFinding("203.0.113.7", endpoint: "r", requiresPassword: true).severity == .warning)
        #expect(DataStoreAudit.bindFinding("203.0.113.7", endpoint: "r", requiresPassword: false).severity == .critical)
        #expect(DataStoreAudit.isPrivate("172.31.0.1") && !DataStoreAudit.isPrivate("172.32.0.1") && DataStoreAudit.isPrivate("fd00::1"))
    }

    /// The production file's servers get read_only and limits from the `<<: *wsserver` merge.
    @Test func composeMergeKeysAreResolved() throws {
        let file = try ComposeFile(path: Repository.path("docker/docker-compose.prod.yml"))
        let server = try #require(file.services.first { $0.name == "wsserver-1" })
        #expect(server.readOnly && server.memoryLimit && server.cpuLimit && server.dockerfile?.hasSuffix("docker/Dockerfile") == true)
        #expect(server.environment["SERVER_NAME"] == "ws1" && server.environment["REDIS_ADDR"] == "redis:6379")
        #expect(file.networks["backend"] == true && file.networks["frontend"] == false)
        #expect(file.services.first { $0.name == "haproxy" }?.ports == ["80:80", "443:443"])
        #expect(throws: OpsError.self) { try ComposeFile(path: "x.yml", text: "version: '3'\n") }
    }
}
