/// Which instance each remote partner was last seen connected to, so the periodic crash check
/// asks Redis whether each *instance* is alive rather than where each *partner* is.
///
/// A partner that leaves or moves in the ordinary way is announced over the bus, so the places
/// remembered here only need to be looked up again now and then (every `refreshEvery` rounds),
/// for partners not seen before, and when the remembered instance is gone (the partner may
/// have moved before it died). A value: `ClusterBackend` keeps one behind its lock.
struct PartnerLocations: Equatable {
    /// Rounds between full look-ups: with the 2 s check, every 30 s a partner whose departure
    /// announcement was lost is noticed anyway.
    static let refreshEvery = 15

    private(set) var servers: [String: String] = [:]
    private var round = 0

    /// Starts a round over `sessions`: forgets everyone else, and returns those to look up.
    mutating func begin(_ sessions: [String]) -> [String] {
        let watched = Set(sessions)
        servers = servers.filter { watched.contains($0.key) }
        round = (round + 1) % Self.refreshEvery
        return round == 1 || Self.refreshEvery == 1 ? sessions : sessions.filter { servers[$0] == nil }
    }

    mutating func record(_ located: [String: String]) {
        servers.merge(located) { _, new in new }
    }

    mutating func forget(_ sessions: Set<String>) {
        for session in sessions { servers[session] = nil }
    }
}
