import ArgumentParser
import OpsKit

/// The command line as an operator types it, made into what the parser expects, or a usage error
/// that says what was meant:
/// - options before the subcommand move after it (`whisperctl --json status`,
///   `whisperctl --config x.yml config show`, `backup --json list`);
/// - `rollout help`, `backup help list` are `help rollout`, `help backup list`;
/// - an unknown command, here or after `help`, is an error with the closest name
///   (`whisperctl stauts`: did you mean 'status'?).
enum CommandLineRewrite {
    enum Outcome: Equatable {
        case parse([String])
        /// A usage error (exit 64), its message.
        case usage(String)
    }

    static func rewrite(_ arguments: [String], root: ParsableCommand.Type) -> Outcome {
        // The shell completion scripts' own protocol is left exactly as they wrote it.
        if arguments.first == "---completion" { return .parse(arguments) }
        var words = hoistLeadingOptions(arguments, root: root)
        if words.first == "help" {
            if let problem = unknownCommand(in: Array(words.dropFirst()), root: root, strict: true) { return .usage(problem) }
            return .parse(words)
        }
        var current = root
        var path: [String] = []
        var index = 0
        while index < words.count {
            let subcommands = current.configuration.subcommands
            guard !subcommands.isEmpty else { break }
            let word = words[index]
            if let next = subcommands.first(where: { $0._commandName == word }) {
                path.append(word)
                current = next
                index += 1
                continue
            }
            if word == "help" {
                return .parse(["help"] + path + words[(index + 1)...])
            }
            if word.hasPrefix("-") {
                // `backup --json list`: options before a subcommand's name go after it.
                guard let later = laterSubcommand(in: words, from: index, of: subcommands) else { break }
                let name = words.remove(at: later)
                words.insert(name, at: index)
                continue
            }
            // A plain word: the default subcommand's argument, else a command that does not exist.
            if current.configuration.defaultSubcommand != nil { break }
            return .usage(unknownMessage(word, path: path, among: subcommands))
        }
        return .parse(words)
    }

    /// Leading options (before any subcommand) moved after the subcommand path they precede.
    static func hoistLeadingOptions(_ arguments: [String], root: ParsableCommand.Type) -> [String] {
        let names = Set(root.configuration.subcommands.map { $0._commandName } + ["help"])
        var leading: [String] = []
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-"), !["-h", "--help", "--version", "--generate-completion-script"].contains(arguments[index]),
            !arguments[index].hasPrefix("--generate-completion-script")
        {
            let option = arguments[index]
            leading.append(option)
            index += 1
            // `--config x.yml` takes the next word (`--config=x.yml` does not); a word that names a
            // command is the command.
            if !option.contains("="), index < arguments.count, !arguments[index].hasPrefix("-"), !names.contains(arguments[index]),
                InventoryOptions.hoistable.contains(option) || !isFlag(option)
            {
                leading.append(arguments[index])
                index += 1
            }
        }
        guard !leading.isEmpty else { return arguments }
        var path: [String] = []
        var candidates = root.configuration.subcommands
        while index < arguments.count, let command = candidates.first(where: { $0._commandName == arguments[index] }) {
            path.append(arguments[index])
            candidates = command.configuration.subcommands
            index += 1
        }
        return path + leading + arguments[index...]
    }

    /// Flags that take no value, whichever command they belong to.
    private static func isFlag(_ option: String) -> Bool {
        ["--json", "--yes", "--quiet", "--dry-run", "--force", "--no-wait", "--once", "--watch", "--offline", "--insecure"].contains(option)
    }

    /// The index of a subcommand name after options (and their values) starting at `start`.
    private static func laterSubcommand(in words: [String], from start: Int, of subcommands: [ParsableCommand.Type]) -> Int? {
        var index = start
        while index < words.count {
            let word = words[index]
            if subcommands.contains(where: { $0._commandName == word }) { return index }
            if word.hasPrefix("-") {
                index += 1
                continue
            }
            // A value right after an option that takes one.
            if index > start, words[index - 1].hasPrefix("-"), !words[index - 1].contains("="), !isFlag(words[index - 1]) {
                index += 1
                continue
            }
            return nil
        }
        return nil
    }

    /// `help a b`: each word must name a command under the previous one.
    private static func unknownCommand(in words: [String], root: ParsableCommand.Type, strict: Bool) -> String? {
        var current = root
        var path: [String] = []
        for word in words where !word.hasPrefix("-") {
            let subcommands = current.configuration.subcommands
            guard let next = subcommands.first(where: { $0._commandName == word }) else {
                return subcommands.isEmpty ? nil : unknownMessage(word, path: path, among: subcommands)
            }
            path.append(word)
            current = next
        }
        return nil
    }

    private static func unknownMessage(_ word: String, path: [String], among subcommands: [ParsableCommand.Type]) -> String {
        let names = subcommands.map { $0._commandName }
        let scope = (["whisperctl"] + path).joined(separator: " ")
        var message = "unknown command '\(word)' for '\(scope)'"
        if let suggestion = closestMatch(to: word, in: names) { message += " (did you mean '\(suggestion)'?)" }
        return message + "\nthe commands: \(names.joined(separator: ", ")); see '\(scope) --help'"
    }
}
