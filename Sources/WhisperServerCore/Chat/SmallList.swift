/// A list that stores its first element inline: most events yield one action and most deliveries
/// one message, and this keeps those off the heap.
struct SmallList<Element>: Sequence {
    private var first: Element?
    private var rest: [Element] = []

    init() {}

    init(_ element: Element) { first = element }

    var isEmpty: Bool { first == nil }

    mutating func append(_ element: Element) {
        if first == nil { first = element } else { rest.append(element) }
    }

    mutating func append<S: Sequence>(contentsOf elements: S) where S.Element == Element {
        for element in elements { append(element) }
    }

    struct Iterator: IteratorProtocol {
        fileprivate let list: SmallList
        fileprivate var index = -1

        mutating func next() -> Element? {
            defer { index += 1 }
            if index < 0 { return list.first }
            return index < list.rest.count ? list.rest[index] : nil
        }
    }

    func makeIterator() -> Iterator { Iterator(list: self) }

    var count: Int { first == nil ? 0 : 1 + rest.count }
}

extension SmallList: Equatable where Element: Equatable {}

extension SmallList: Sendable where Element: Sendable {}
