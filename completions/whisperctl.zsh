#compdef whisperctl

__whisperctl_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__whisperctl_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __whisperctl_complete "${completions[@]:0:-1}"
    fi
}

__whisperctl_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_whisperctl() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'status:Probe every component of the deployment at once.'
            'config:Show or check the deployment configuration.'
            'loadtest:Load a deployment through the real chat protocol and measure delivery.'
            'metrics:Parse a Prometheus /metrics exposition: from a URL, a file or standard input.'
            'dashboard:The live view: every server'\''s /metrics, HAProxy, Redis and NATS on one screen.'
            'top:The dashboard'\''s numbers as text: once for scripts, or refreshed plain lines.'
            'demo:A real whisper-server with simulated users, and the dashboard on it. Needs nothing else.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        status|config|loadtest|metrics|dashboard|top|demo|help)
            "_whisperctl_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_status() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '*:component:{__whisperctl_custom_complete ---completion status -- positional@0 "${current_word_index}" "$(__whisperctl_cursor_index_in_current_word)"}'
        '--json[Print one JSON object (see docs/status-json.md).]'
        '--timeout[Time limit for each probe, e.g. 2s or 500ms.]:duration:'
        '--watch[Re-run every interval (default 2s) until Ctrl-C.]:duration:'
        '--insecure[Accept self-signed TLS certificates on HTTPS endpoints.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_config() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'show:Print the effective configuration, secrets redacted, with where each value came from.'
            'check:Validate the configuration: unknown keys, malformed URLs and addresses, missing files.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        show|check)
            "_whisperctl_config_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_whisperctl_config_show() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_config_check() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--json[Print JSON.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_loadtest() {
    local -i ret=1
    local -ar arg_specs=(
        '*--url[A WebSocket endpoint; repeat it to spread clients over several servers (partners then sit on different ones).]:ws\://host\:port/ws:'
        '--connections[Connections to open.]:connections:'
        '--chatting-pairs[Pairs of connections that chat; the rest stay idle.]:chatting-pairs:'
        '--rate[Messages per second across all chatting connections.]:rate:'
        '--duration[How long messages flow, e.g. 10s.]:duration:'
        '--ramp[Open the connections evenly over this long.]:duration:'
        '--threads[Event loop threads of the generator.]:threads:'
        '--json[Print one JSON object.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_metrics() {
    local -i ret=1
    local -ar arg_specs=(
        ':source:_files'
        '--match[Only families whose name matches this regular expression (whole name).]:regex:'
        '--cardinality[The N families with the most series (default 10), with their label names.]:N:'
        '--json[Print JSON\: {"families"\: \[{"name", "type", "help", "samples"\: \[...\]}\]}.]'
        '--timeout[Time limit for a URL.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_dashboard() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--interval[How often to scrape, e.g. 1s or 500ms.]:duration:'
        '--window[Rates and quantiles cover this much recent time.]:duration:'
        '--timeout[Time limit for each scrape.]:duration:'
        '--read-only[Disable drain and ready.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_top() {
    local -i ret=1
    local -ar arg_specs=(
        '--config[The deployment file.]:path:_files -g '\''*.yml *.yaml'\'''
        '--redis[Redis address (host\:port), overriding redis.addr.]:addr:'
        '--database-url[PostgreSQL URL, overriding postgres.url.]:url:'
        '--nats-monitor[NATS monitoring URL, overriding nats.monitor_url.]:url:'
        '--haproxy-stats[HAProxy stats URL, overriding haproxy.stats_url.]:url:'
        '*--server[A server as NAME=URL; repeat it; replaces servers.]:name=url:'
        '--once[Print one snapshot and exit.]'
        '--json[Print JSON (one object per snapshot).]'
        '--interval[Time between scrapes.]:duration:'
        '--window[Rates and quantiles cover this much recent time (without --once).]:duration:'
        '--timeout[Time limit for each scrape.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_demo() {
    local -i ret=1
    local -ar arg_specs=(
        '--no-tui[Print top snapshots instead of opening the dashboard.]'
        '--duration[Stop after this long, e.g. 30s (default\: until q or Ctrl-C).]:duration:'
        '--users[How many simulated users.]:n:'
        '--interval[Refresh interval.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_whisperctl_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _whisperctl ]]; then
    _whisperctl "${@}"
else
    compdef _whisperctl whisperctl
fi
