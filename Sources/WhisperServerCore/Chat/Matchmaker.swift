/// Pairs waiting users: the same interest set first, then any shared interest, then anyone once
/// someone has waited `fallback`. Pure logic, driven by `ChatHub` under its lock.
struct Matchmaker {
    struct Waiting: Equatable {
        var session: String
        var interests: Set<String>
        var since: ContinuousClock.Instant
    }

    struct Match: Equatable {
        var first: Waiting
        var second: Waiting
        var commonInterests: [String]
    }

    let fallback: Duration
    let timeout: Duration
    /// In arrival order, so the longest-waiting candidate wins ties.
    private(set) var queue: [Waiting] = []

    init(fallback: Duration, timeout: Duration) {
        self.fallback = fallback
        self.timeout = timeout
    }

    var count: Int { queue.count }

    func isQueued(_ session: String) -> Bool { queue.contains { $0.session == session } }

    /// Matches `session` with the best waiting user, or queues it.
    mutating func find(session: String, interests: Set<String>, now: ContinuousClock.Instant) -> Match? {
        remove(session)
        let arriving = Waiting(session: session, interests: interests, since: now)
        if let index = bestPartner(for: arriving, now: now) {
            let partner = queue.remove(at: index)
            return Match(first: partner, second: arriving, commonInterests: partner.interests.intersection(interests).sorted())
        }
        queue.append(arriving)
        return nil
    }

    @discardableResult
    mutating func remove(_ session: String) -> Bool {
        guard let index = queue.firstIndex(where: { $0.session == session }) else { return false }
        queue.remove(at: index)
        return true
    }

    /// Pairs users whose wait passed `fallback` and drops those past `timeout`.
    mutating func sweep(now: ContinuousClock.Instant) -> (matches: [Match], expired: [Waiting]) {
        let expired = queue.filter { now - $0.since >= timeout }
        queue.removeAll { now - $0.since >= timeout }
        var matches: [Match] = []
        var index = 0
        while index < queue.count {
            let candidate = queue[index]
            if now - candidate.since >= fallback {
                queue.remove(at: index)
                if let partnerIndex = bestPartner(for: candidate, now: now, candidateWaited: true) {
                    let partner = queue.remove(at: partnerIndex)
                    if partnerIndex < index { index -= 1 }
                    matches.append(Match(first: candidate, second: partner, commonInterests: candidate.interests.intersection(partner.interests).sorted()))
                    continue
                }
                queue.insert(candidate, at: index)
            }
            index += 1
        }
        return (matches, expired)
    }

    /// Pairs `session`, once it has waited past the fallback, with anyone still waiting.
    mutating func fallbackPartner(for session: String, now: ContinuousClock.Instant) -> Waiting? {
        guard let index = queue.firstIndex(where: { $0.session == session }) else { return nil }
        let candidate = queue.remove(at: index)
        if let partnerIndex = bestPartner(for: candidate, now: now, candidateWaited: true) {
            return queue.remove(at: partnerIndex)
        }
        queue.insert(candidate, at: index)
        return nil
    }

    private func bestPartner(for user: Waiting, now: ContinuousClock.Instant, candidateWaited: Bool = false) -> Int? {
        if let same = queue.firstIndex(where: { $0.interests == user.interests && $0.session != user.session }) { return same }
        if !user.interests.isEmpty,
            let shared = queue.firstIndex(where: { !$0.interests.isDisjoint(with: user.interests) && $0.session != user.session })
        {
            return shared
        }
        // Anyone, once either side has waited long enough.
        return queue.firstIndex { other in
            other.session != user.session && (candidateWaited || now - other.since >= fallback)
        }
    }
}
