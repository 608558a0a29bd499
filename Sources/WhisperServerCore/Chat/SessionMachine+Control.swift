/// Control messages (find, leave, report) and the queue's own requests (fallback, expiry) wait
/// for the backend, so they run one at a time, in order.
extension SessionMachine {
    mutating func request(_ control: Control, _ actions: inout SmallList<Action>) {
        guard !controlBusy else {
            if waitingControl.count < Self.maxWaitingControl {
                waitingControl.append(control)
            } else {
                actions.append(.send(.error(code: "rate_limited", message: "too many find, leave or report requests in flight")))
            }
            return
        }
        start(control, &actions)
    }

    private mutating func start(_ control: Control, _ actions: inout SmallList<Action>) {
        switch control {
        case .find(let interests):
            guard chat == nil else {
                actions.append(.send(.error(code: "bad_request", message: "leave the current chat before finding another")))
                return
            }
            queuedInterests = interests
            controlBusy = true
            actions.append(.find(interests: interests))
        case .fallback:
            guard isQueued else { return }
            controlBusy = true
            actions.append(.fallback)
        case .expire:
            guard isQueued else { return }
            queuedInterests = nil
            controlBusy = true
            actions.append(.watchQueue(false))
            actions.append(.expireQueue)
        case .leave:
            if let current = chat {
                endChat(&actions)
                controlBusy = true
                actions.append(.leaveChat(partner: current.partner, chat: current.id))
            } else if isQueued {
                queuedInterests = nil
                controlBusy = true
                actions.append(.watchQueue(false))
                actions.append(.leaveQueue)
            } else {
                actions.append(.send(.error(code: "not_in_chat", message: "there is no chat to leave")))
            }
        case .report(let reason):
            guard let current = chat else {
                actions.append(.send(.error(code: "not_in_chat", message: "reports concern your current partner")))
                return
            }
            controlBusy = true
            actions.append(.report(reason: reason, partner: current.partner, chat: current.id))
        }
    }

    mutating func controlFinished(error: String?, _ actions: inout SmallList<Action>) {
        controlBusy = false
        if let error {
            if isQueued && chat == nil {
                queuedInterests = nil
                actions.append(.watchQueue(false))
            }
            actions.append(.send(.error(code: "unavailable", message: error)))
        }
        if let resumable = departureWaiting {
            departureWaiting = nil
            actions.append(.depart(departure(resumable: resumable)))
            return
        }
        while !controlBusy, phase == .open, !waitingControl.isEmpty {
            start(waitingControl.removeFirst(), &actions)
        }
    }

}
