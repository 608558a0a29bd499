import Foundation
import TestSupport
import Testing

/// Every fuzz target replays its seeds and every past crash (Fuzz/Regressions) through a normal
/// debug build, overflow checks on: a regression fails here even without the fuzzer build.
@Suite struct FuzzCorpusTests {
    static let targets: [String] = {
        guard let run = try? Command.capture(ProductBinary.path("whisper-fuzz"), ["list"], environment: [:], directory: Repository.root) else { return [] }
        return run.stdout.split(separator: "\n").map(String.init)
    }()

    @Test func everyTargetHasSeeds() throws {
        #expect(Self.targets.count >= 14)
        for target in Self.targets {
            let seeds = (try? FileManager.default.contentsOfDirectory(atPath: Repository.path("Fuzz/Corpus/\(target)"))) ?? []
            #expect(!seeds.isEmpty, "Fuzz/Corpus/\(target) has no seed")
        }
    }

    @Test(arguments: targets) func replaysSeedsAndRegressions(target: String) async throws {
        // Off the cooperative threads: a replay takes seconds and would starve the tests beside it.
        let run = try await Offload.run {
            try Command.capture(
                ProductBinary.path("whisper-fuzz"), [target, "Fuzz/Corpus/\(target)", "Fuzz/Regressions/\(target)"],
                environment: ["SWIFT_BACKTRACE": "enable=no"], directory: Repository.root)
        }
        #expect(run.status == 0, "\(target): \(run.stderr.suffix(2000))")
        #expect(run.stdout.contains("\(target): "), "\(run.stdout)")
    }
}
