import ArgumentParser

/// `--generate-completion-script SHELL`: the argument parser's script, with what its bash
/// generator gets wrong for this command line corrected:
/// - it registers the whole command with `-o filenames`, so a name such as `redis` completes to
///   `redis/` when a directory of that name is in the working directory; here only file
///   completions ask bash to treat their words as file names;
/// - a group with a default subcommand (`rollout` runs `rollout run`) completes only the group's
///   own `--help`/`--version`; here its words are the default subcommand's once they cannot be
///   a subcommand's name.
enum CompletionScript {
    /// The script for `arguments` when they ask for one, else nil.
    static func text(for arguments: [String], root: ParsableCommand.Type) throws -> String? {
        let shellName: String
        switch arguments.count {
        case 1 where arguments[0].hasPrefix("--generate-completion-script="):
            shellName = String(arguments[0].dropFirst("--generate-completion-script=".count))
        case 2 where arguments[0] == "--generate-completion-script":
            shellName = arguments[1]
        default:
            return nil
        }
        guard let shell = CompletionShell(rawValue: shellName) else { return nil }
        let script = root.completionScript(for: shell)
        return shell == .bash ? try bash(script, root: root) : script
    }

    struct GeneratorChanged: Error, CustomStringConvertible {
        var anchor: String
        var description: String { "the bash completion generator's output no longer contains \(anchor.debugDescription); CompletionScript needs updating" }
    }

    static func bash(_ generated: String, root: ParsableCommand.Type) throws -> String {
        let name = root._commandName
        var script = generated
        try replace("complete -o filenames -F _\(name) \(name)", with: "complete -F _\(name) \(name)", in: &script)
        try replace(
            "__\(name)_add_completions() {\n",
            with: """
                __\(name)_add_completions() {
                    # File and directory words are file names to bash (quoted, a slash after a directory).
                    local argument
                    for argument in "${@}"; do
                        case "${argument}" in
                        -f | -fX | -d | plusdirs) compopt -o filenames 2>/dev/null ;;
                        esac
                    done

                """, in: &script)
        try replace(
            "__\(name)_custom_complete() {\n",
            with: """
                # Succeeds when the words after a group's name belong to its default subcommand: no
                # earlier word names one of the group's subcommands ($1), and the word being completed
                # is an option or follows other words.
                __\(name)_is_default_subcommand() {
                    local -ar words=("${unparsed_words[@]}")
                    local -ir last="$((${#words[@]} - 1))"
                    local -i index
                    for ((index = 0; index < last; index++)); do
                        [[ " ${1} " == *" ${words[index]} "* ]] && return 1
                    done
                    [[ "${cur}" == -* || "${last}" -gt 0 ]]
                }

                __\(name)_custom_complete() {

                """, in: &script)
        for group in groupsWithDefaultSubcommand(under: root, path: [name]) {
            let function = "_" + group.path.joined(separator: "_")
            let names = group.command.configuration.subcommands.map { $0._commandName }.joined(separator: " ")
            try replace(
                "\(function)() {\n",
                with: """
                    \(function)() {
                        # '\(group.path.joined(separator: " "))' alone runs '\(group.fallback)': complete its options.
                        if __\(name)_is_default_subcommand '\(names)'; then
                            \(function)_\(group.fallback)
                            return
                        fi

                    """, in: &script)
        }
        return script
    }

    private static func groupsWithDefaultSubcommand(under command: ParsableCommand.Type, path: [String]) -> [(path: [String], command: ParsableCommand.Type, fallback: String)] {
        var found: [(path: [String], command: ParsableCommand.Type, fallback: String)] = []
        for subcommand in command.configuration.subcommands {
            let subpath = path + [subcommand._commandName]
            if let fallback = subcommand.configuration.defaultSubcommand {
                found.append((subpath, subcommand, fallback._commandName))
            }
            found += groupsWithDefaultSubcommand(under: subcommand, path: subpath)
        }
        return found
    }

    /// Replaces the one occurrence of `anchor`; a generator that no longer writes it fails loudly.
    private static func replace(_ anchor: String, with replacement: String, in script: inout String) throws {
        guard let range = script.range(of: anchor) else { throw GeneratorChanged(anchor: anchor) }
        script.replaceSubrange(range, with: replacement)
    }
}
