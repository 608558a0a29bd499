import Foundation
import OpsKit
import TestSupport
import Testing

/// HAProxy's server states as HAProxy means them, read from a real HAProxy driven into each one:
/// health checks passing and failing (with rise and fall of 3, so the transitions last), the
/// runtime API's drain and maintenance, a 404 check with `disable-on-404`, and a server not checked.
@Suite struct HAProxyStatesTests {
    @Test func everyStateIsMappedFaithfully() async throws {
        let names = ["up", "down", "going-up", "going-down", "drain", "maint", "nolb", "unchecked"]
        var fixtures: [FixtureHTTPServer] = []
        for name in names {
            var routes = FixtureHTTPServer.healthyServerRoutes()
            if name == "down" || name == "going-up" { routes["/ready"] = .init(status: 503) }
            fixtures.append(try await FixtureHTTPServer.start(routes: routes))
        }
        let checks = HAProxyServer.Checks(interval: "700ms", rise: 3, fall: 3, disableOn404: true, unchecked: ["unchecked"])
        let haproxy = try await HAProxyServer.start(servers: zip(names, fixtures).map { ($0, $1.port) }, checks: checks)
        func fixture(_ name: String) -> FixtureHTTPServer { fixtures[names.firstIndex(of: name)!] }
        do {
            let api = HAProxyRuntimeAPI(address: .unixSocket(haproxy.runtimeSocket))
            try await haproxy.waitForStatus("down", "DOWN") { $0 == "DOWN" }
            try await haproxy.waitForStatus("going-up", "DOWN") { $0 == "DOWN" }
            try await api.setState("drain", server: "drain", backend: haproxy.backend)
            try await api.setState("maint", server: "maint", backend: haproxy.backend)
            fixture("nolb").set("/ready", .init(status: 404))
            try await haproxy.waitForStatus("nolb", "NOLB") { $0.hasPrefix("NOLB") }
            // Now the transitions, each caught while it lasts (2 more checks, 1.4 s).
            fixture("going-up").set("/ready", .init(status: 200))
            fixture("going-down").set("/ready", .init(status: 503))
            try await haproxy.waitForStatus("going-up", "DOWN n/3") { $0.hasPrefix("DOWN ") && $0.hasSuffix("/3") }
            try await haproxy.waitForStatus("going-down", "UP n/3") { $0.hasPrefix("UP ") && $0.hasSuffix("/3") }

            let report = HAProxyProbe(statsURL: haproxy.statsURL, backend: haproxy.backend).evaluate(try await haproxy.stats(), latency: nil)
            let servers = report.json["servers"]?.arrayValue ?? []
            var byName: [String: JSONValue] = [:]
            for server in servers { if let name = server["name"]?.stringValue { byName[name] = server } }
            func status(_ name: String) -> String? { byName[name]?["status"]?.stringValue }
            #expect(status("up") == "UP")
            #expect(status("down") == "DOWN")
            #expect(status("going-up") == "GOING UP", "\(byName["going-up"]?.serialized() ?? "")")
            #expect(status("going-down") == "GOING DOWN", "\(byName["going-down"]?.serialized() ?? "")")
            #expect(status("drain") == "DRAIN")
            #expect(status("maint") == "MAINT")
            #expect(status("nolb") == "NOLB")
            #expect(status("unchecked") == "NO CHECK")
            #expect(byName["going-up"]?["progress"]?["needed"] == .int(3))
            #expect(byName["going-up"]?["serving"] == .bool(false))
            #expect(byName["going-down"]?["serving"] == .bool(true), "still UP until the third failed check")
            for server in servers {
                #expect(server["check_status"]?.stringValue?.hasPrefix("*") != true, "the in-progress marker is a field of its own")
            }
            // The verdict counts what takes new connections: up, going down, not checked.
            #expect(report.detail.hasPrefix("3/8 serving"), "\(report.detail)")
            #expect(report.status == .warning)
        } catch {
            Issue.record("\(error)")
        }
        await haproxy.stop()
        for fixture in fixtures { await fixture.stop() }
    }

    @Test func theRuntimeAPISaysWhenItRefuses() async throws {
        let fixture = try await FixtureHTTPServer.start(routes: FixtureHTTPServer.healthyServerRoutes())
        let haproxy = try await HAProxyServer.start(servers: [("ws1", fixture.port)])
        let api = HAProxyRuntimeAPI(address: .unixSocket(haproxy.runtimeSocket))
        await #expect(throws: OpsError.self) { try await api.setState("drain", server: "nope", backend: haproxy.backend) }
        let info = try await api.execute("show info")
        #expect(info.contains("Name: HAProxy"))
        let missing = HAProxyRuntimeAPI(address: .unixSocket("/nonexistent/admin.sock"))
        await #expect(throws: OpsError.self) { try await missing.execute("show info") }
        await haproxy.stop()
        await fixture.stop()
    }
}
