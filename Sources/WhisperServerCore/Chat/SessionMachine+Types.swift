/// What can happen to a session, and what it decides to do about it (see `SessionMachine`).
extension SessionMachine {
    enum Event: Sendable {
        /// The session exists (new, or taken back with a resume token) and its welcome can go out.
        case opened(Opening)
        /// A frame from the client, decoded and past moderation and the rate limit.
        case client(ClientMessage, nowMicros: Int64)
        /// The partner, or the backend on its behalf.
        case peer(PeerEvent)
        /// Our `find` was queued: the client hears `queued`.
        case queued
        /// Our find or fallback picked a partner, and the backend recorded the chat.
        case paired(chat: String, partner: String, commonInterests: [String])
        /// The queue gave up on us: tell the client if we were still waiting.
        case queueExpired(wasQueued: Bool)
        case fallbackDue
        case queueTimedOut
        /// A control message's backend work is done (or failed, with a message for the client).
        case controlFinished(error: String?)
        /// What the resume buffer held after the inbox's last delivered message; `bufferFull` when
        /// it held RESUME_BUFFER of them, so anything older was trimmed away.
        case fetched([StoredMessage], bufferFull: Bool)
        case fetchFailed
        case fetchDue
        /// The message bus is back after an outage: what it lost must be caught up.
        case busRestored
        /// The shared state was lost (a store restarted empty): write this session again.
        case stateLost
        /// The partner's instance stopped answering (it crashed).
        case partnerUnreachable(String)
        /// The resume window of an away partner has passed: check whether it came back.
        case partnerExpiryDue(String)
        case closed(resumable: Bool)
    }

    /// How the session came to be, from the backend.
    struct Opening: Sendable {
        var session: String
        var resumeToken: String
        var server: String
        var resumed: Bool
        /// The chat the session was in, for a resumed one.
        var chat: String?
        var partner: String?
        var lastSent: Int = 0
        var lastDelivered: Int = 0
        /// Messages of this session already kept for its partner, by client id: a client resending
        /// after a resume gets their ack again instead of a second copy.
        var stored: [String: Int] = [:]
    }

    enum Action: Sendable, Equatable {
        case send(ServerMessage)
        /// Messages from the partner for the client; `live` ones count in the latency histogram.
        case write(SmallList<StoredMessage>, live: Bool)
        /// Our client's message for the partner: deliver it, keep it in the partner's buffer,
        /// and ack it to the client once kept.
        case relay(StoredMessage, partner: String, chat: String)
        /// Tell the partner something (wherever it is connected).
        case tell(PeerEvent, partner: String, chat: String?)
        case fetch(after: Int, later: Bool)
        /// Backend work for a control message; `controlFinished` follows.
        case find(interests: Set<String>)
        case fallback
        case leaveChat(partner: String, chat: String)
        case leaveQueue
        case expireQueue
        case report(reason: String, partner: String, chat: String)
        /// The queue timers start (queued) or stop (matched, left).
        case watchQueue(Bool)
        /// Check later whether an away partner came back within the resume window.
        case watchPartner(String)
        case checkPartnerGone(String)
        /// The chat changed: the hub's view of who talks to whom follows.
        case partnerChanged(String?)
        case register
        case countSkipped(Int)
        /// The connection is gone: the session waits to be resumed, or ends.
        case depart(Departure)
    }

    /// What the backend must do when the connection ends.
    struct Departure: Sendable, Equatable {
        var session: String
        var partner: String?
        var chat: String?
        var wasQueued: Bool
        var lastSent: Int
        var lastDelivered: Int
        /// Wait for a resume; otherwise the session ends and the partner hears `partner_left`.
        var resumable: Bool
    }
}
