import Testing

@testable import OpsKit

/// What a load test counts as lost and as in flight, without a server.
@Suite struct LoadTestAccountingTests {
    @Test func aMessageThePartnerReceivedIsNotInFlightEvenUnacked() {
        let partner = DeliveryAccounting(unacked: [], expected: 10, missing: [4])
        #expect(partner.received(3))
        #expect(!partner.received(4), "a gap never filled")
        #expect(!partner.received(10), "not arrived yet")
    }

    @Test func inFlightIsNamedAndNotCountedAsLost() throws {
        var report = LoadTestReport()
        report.plan = try LoadTestPlan(urls: ["ws://127.0.0.1:1/ws"], connections: 2, chattingPairs: 1, rate: 0, duration: .seconds(1), ramp: .seconds(1))
        report.matched = 2
        report.sent = 10
        report.delivered = 7
        report.inFlight = 3
        report.settled = .seconds(60)
        #expect(report.lost == 0)
        #expect(report.problems == ["3 messages still in flight after waiting 60 s: sent, never acknowledged and not delivered (not counted as lost)"])
        #expect(report.json["in_flight"] == .int(3) && report.json["lost"] == .int(0))
        report.inFlight = 1
        #expect(report.lost == 2 && report.problems.first == "2 messages lost")
    }
}
