function __whisperctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __whisperctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __whisperctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __whisperctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __whisperctl_parse_tokens -S
    set -l unparsed_tokens (__whisperctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'whisperctl'
        __whisperctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'status'
            __whisperctl_parse_subcommand -r 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'json' 'timeout=' 'watch=' 'insecure' 'version' 'h/help'
        case 'config'
            __whisperctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'show'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'json' 'version' 'h/help'
            case 'check'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'json' 'version' 'h/help'
            end
        case 'loadtest'
            __whisperctl_parse_subcommand 0 'url=+' 'connections=' 'chatting-pairs=' 'rate=' 'duration=' 'ramp=' 'threads=' 'json' 'version' 'h/help'
        case 'metrics'
            __whisperctl_parse_subcommand 1 'match=' 'cardinality=' 'json' 'timeout=' 'version' 'h/help'
        case 'dashboard'
            __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'interval=' 'window=' 'timeout=' 'read-only' 'version' 'h/help'
        case 'top'
            __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'once' 'json' 'interval=' 'window=' 'timeout=' 'version' 'h/help'
        case 'demo'
            __whisperctl_parse_subcommand 0 'no-tui' 'duration=' 'users=' 'interval=' 'version' 'h/help'
        case 'migrate'
            __whisperctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'status'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'version' 'h/help'
            case 'up'
                __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'dry-run' 'no-wait' 'lock-timeout=' 'retries=' 'yes' 'backup-first' 'version' 'h/help'
            case 'down'
                __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'dry-run' 'no-wait' 'lock-timeout=' 'retries=' 'yes' 'version' 'h/help'
            case 'goto'
                __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'dry-run' 'no-wait' 'lock-timeout=' 'retries=' 'yes' 'version' 'h/help'
            case 'force'
                __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'dry-run' 'no-wait' 'lock-timeout=' 'retries=' 'yes' 'version' 'h/help'
            case 'create'
                __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'no-transaction' 'version' 'h/help'
            end
        case 'backup'
            __whisperctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'wait=' 'quiet' 'keep-days=' 'keep-last=' 'install-schedule=' 'at=' 'schedule-dir=' 'dry-run' 'version' 'h/help'
            case 'list'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'version' 'h/help'
            case 'verify'
                __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'wait=' 'restore-test' 'quiet' 'version' 'h/help'
            case 'prune'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'wait=' 'keep-days=' 'keep-last=' 'dry-run' 'version' 'h/help'
            end
        case 'restore'
            __whisperctl_parse_subcommand 1 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'dir=' 'json' 'wait=' 'target-db=' 'with-config' 'yes' 'version' 'h/help'
        case 'lock'
            __whisperctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'status'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'json' 'version' 'h/help'
            case 'break'
                __whisperctl_parse_subcommand 0 'config=' 'redis=' 'database-url=' 'nats-monitor=' 'haproxy-stats=' 'server=+' 'yes' 'force' 'version' 'h/help'
            end
        case 'help'
            __whisperctl_parse_subcommand -r 1 'version'
        end
    end
end

function __whisperctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __whisperctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __whisperctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __whisperctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__whisperctl_tokens -p)
    if test -z "$(__whisperctl_tokens -t)"
        set -l index (count (__whisperctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'whisperctl' -f
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'status' -d 'Probe every component of the deployment at once.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'config' -d 'Show or check the deployment configuration.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'loadtest' -d 'Load a deployment through the real chat protocol and measure delivery.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'metrics' -d 'Parse a Prometheus /metrics exposition: from a URL, a file or standard input.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'dashboard' -d 'The live view: every server\'s /metrics, HAProxy, Redis and NATS on one screen.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'top' -d 'The dashboard\'s numbers as text: once for scripts, or refreshed plain lines.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'demo' -d 'A real whisper-server with simulated users, and the dashboard on it. Needs nothing else.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'migrate' -d 'Schema migrations of the abuse-report database: status, up, down, goto, force, create.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'backup' -d 'Back up the abuse-report database, the .env and the certificates; list, verify and prune backups.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'restore' -d 'Restore a backup into the database (or --target-db), all or nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'lock' -d 'The deployment\'s operations lock: who holds it, and breaking a dead holder\'s.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl status" -ge 1' -fka '(__whisperctl_custom_completion ---completion status -- positional@0 (count (__whisperctl_tokens -pc)) (__whisperctl_tokens -tC))'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" json' -l 'json' -d 'Print one JSON object (see docs/status-json.md).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" timeout' -l 'timeout' -d 'Time limit for each probe, e.g. 2s or 500ms.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" watch' -l 'watch' -d 'Re-run every interval (default 2s) until Ctrl-C.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" insecure' -l 'insecure' -d 'Accept self-signed TLS certificates on HTTPS endpoints.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl config" -eq 1' -fa 'show' -d 'Print the effective configuration, secrets redacted, with where each value came from.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl config" -eq 1' -fa 'check' -d 'Validate the configuration: unknown keys, malformed URLs and addresses, missing files.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl config check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest"' -l 'url' -d 'A WebSocket endpoint; repeat it to spread clients over several servers (partners then sit on different ones).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" connections' -l 'connections' -d 'Connections to open.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" chatting-pairs' -l 'chatting-pairs' -d 'Pairs of connections that chat; the rest stay idle.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" rate' -l 'rate' -d 'Messages per second across all chatting connections.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" duration' -l 'duration' -d 'How long messages flow, e.g. 10s.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" ramp' -l 'ramp' -d 'Open the connections evenly over this long.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" threads' -l 'threads' -d 'Event loop threads of the generator.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" json' -l 'json' -d 'Print one JSON object.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl loadtest" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl metrics" -eq 1' -F
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl metrics" match' -l 'match' -d 'Only families whose name matches this regular expression (whole name).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl metrics" cardinality' -l 'cardinality' -d 'The N families with the most series (default 10), with their label names.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl metrics" json' -l 'json' -d 'Print JSON: {"families": [{"name", "type", "help", "samples": [...]}]}.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl metrics" timeout' -l 'timeout' -d 'Time limit for a URL.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl metrics" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl metrics" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" interval' -l 'interval' -d 'How often to scrape, e.g. 1s or 500ms.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" window' -l 'window' -d 'Rates and quantiles cover this much recent time.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" timeout' -l 'timeout' -d 'Time limit for each scrape.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" read-only' -l 'read-only' -d 'Disable drain and ready.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl dashboard" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" once' -l 'once' -d 'Print one snapshot and exit.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" json' -l 'json' -d 'Print JSON (one object per snapshot).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" interval' -l 'interval' -d 'Time between scrapes.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" window' -l 'window' -d 'Rates and quantiles cover this much recent time (without --once).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" timeout' -l 'timeout' -d 'Time limit for each scrape.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl top" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl demo" no-tui' -l 'no-tui' -d 'Print top snapshots instead of opening the dashboard.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl demo" duration' -l 'duration' -d 'Stop after this long, e.g. 30s (default: until q or Ctrl-C).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl demo" users' -l 'users' -d 'How many simulated users.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl demo" interval' -l 'interval' -d 'Refresh interval.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl demo" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl demo" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl migrate" -eq 1' -fa 'status' -d 'Applied and pending migrations, with when, how long and whether files changed.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl migrate" -eq 1' -fa 'up' -d 'Apply pending migrations: all, or the next N.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl migrate" -eq 1' -fa 'down' -d 'Revert the last N applied migrations (default 1).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl migrate" -eq 1' -fa 'goto' -d 'Migrate up or down to version V (0: revert everything).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl migrate" -eq 1' -fa 'force' -d 'Record the schema as exactly at version V and clean, after a human fixed a dirty state. Runs no migration SQL.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl migrate" -eq 1' -fa 'create' -d 'Create the next numbered pair of migration files.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" dir' -l 'dir' -d 'The migrations directory (default: migrations.dir, else migrations/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" dir' -l 'dir' -d 'The migrations directory (default: migrations.dir, else migrations/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" dry-run' -l 'dry-run' -d 'Print the exact SQL, in order, and change nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" no-wait' -l 'no-wait' -d 'Fail at once when another run holds the migration or operations lock (default: wait, saying who holds it).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" lock-timeout' -l 'lock-timeout' -d 'SET lock_timeout for each migration (default: migrations.lock_timeout, else 5s).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" retries' -l 'retries' -d 'Attempts after the first when a lock times out or a deadlock aborts a migration.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" yes' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" backup-first' -l 'backup-first' -d 'Take a verified backup first (see \'whisperctl backup\').'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate up" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" dir' -l 'dir' -d 'The migrations directory (default: migrations.dir, else migrations/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" dry-run' -l 'dry-run' -d 'Print the exact SQL, in order, and change nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" no-wait' -l 'no-wait' -d 'Fail at once when another run holds the migration or operations lock (default: wait, saying who holds it).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" lock-timeout' -l 'lock-timeout' -d 'SET lock_timeout for each migration (default: migrations.lock_timeout, else 5s).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" retries' -l 'retries' -d 'Attempts after the first when a lock times out or a deadlock aborts a migration.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" yes' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate down" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" dir' -l 'dir' -d 'The migrations directory (default: migrations.dir, else migrations/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" dry-run' -l 'dry-run' -d 'Print the exact SQL, in order, and change nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" no-wait' -l 'no-wait' -d 'Fail at once when another run holds the migration or operations lock (default: wait, saying who holds it).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" lock-timeout' -l 'lock-timeout' -d 'SET lock_timeout for each migration (default: migrations.lock_timeout, else 5s).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" retries' -l 'retries' -d 'Attempts after the first when a lock times out or a deadlock aborts a migration.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" yes' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate goto" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" dir' -l 'dir' -d 'The migrations directory (default: migrations.dir, else migrations/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" dry-run' -l 'dry-run' -d 'Print the exact SQL, in order, and change nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" no-wait' -l 'no-wait' -d 'Fail at once when another run holds the migration or operations lock (default: wait, saying who holds it).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" lock-timeout' -l 'lock-timeout' -d 'SET lock_timeout for each migration (default: migrations.lock_timeout, else 5s).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" retries' -l 'retries' -d 'Attempts after the first when a lock times out or a deadlock aborts a migration.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" yes' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate force" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" dir' -l 'dir' -d 'The migrations directory (default: migrations.dir, else migrations/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" no-transaction' -l 'no-transaction' -d 'Mark it to run outside a transaction (for CREATE INDEX CONCURRENTLY).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl migrate create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl backup" -eq 1' -fa 'create' -d 'Take a backup now (what \'whisperctl backup\' does).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl backup" -eq 1' -fa 'list' -d 'Every backup, newest first.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl backup" -eq 1' -fa 'verify' -d 'Check a backup (default: the newest): checksums and pg_restore --list; --restore-test restores it into a scratch database.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl backup" -eq 1' -fa 'prune' -d 'Delete backups past the retention; the newest verified one is always kept.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" dir' -l 'dir' -d 'The backup directory (default: backup.dir, else backups/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" wait' -l 'wait' -d 'Wait this long for the operations lock when another command holds it (default: fail at once).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" quiet' -l 'quiet' -d 'Print nothing but errors (for cron).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" keep-days' -l 'keep-days' -d 'Delete backups older than this many days (default: backup.keep_days, else 30).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" keep-last' -l 'keep-last' -d 'Always keep the newest N.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" install-schedule' -l 'install-schedule' -d 'Instead of backing up, write the daily backup and verify as a cron entry or a systemd timer.' -rfka 'cron systemd'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" at' -l 'at' -d 'The schedule\'s time of day, HH:MM.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" schedule-dir' -l 'schedule-dir' -d 'Write the schedule here instead of /etc/cron.d or /etc/systemd/system.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" dry-run' -l 'dry-run' -d 'With --install-schedule: print the files, write nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" dir' -l 'dir' -d 'The backup directory (default: backup.dir, else backups/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" dir' -l 'dir' -d 'The backup directory (default: backup.dir, else backups/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" wait' -l 'wait' -d 'Wait this long for the operations lock when another command holds it (default: fail at once).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" restore-test' -l 'restore-test' -d 'Restore into a scratch database on the same server, compare every table\'s rows with the manifest, drop it.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" quiet' -l 'quiet' -d 'Print nothing but errors.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" dir' -l 'dir' -d 'The backup directory (default: backup.dir, else backups/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" wait' -l 'wait' -d 'Wait this long for the operations lock when another command holds it (default: fail at once).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" keep-days' -l 'keep-days' -d 'Delete backups older than this many days (default: backup.keep_days, else 30).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" keep-last' -l 'keep-last' -d 'Always keep the newest N.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" dry-run' -l 'dry-run' -d 'Say what would be deleted; delete nothing.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl backup prune" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" dir' -l 'dir' -d 'The backup directory (default: backup.dir, else backups/ beside the inventory).' -rfa '(__whisperctl_complete_directories)'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" wait' -l 'wait' -d 'Wait this long for the operations lock when another command holds it (default: fail at once).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" target-db' -l 'target-db' -d 'Restore into this database on the same server (created when missing).' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" with-config' -l 'with-config' -d 'Also restore the .env and the certificates to their paths.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" yes' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl restore" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl lock" -eq 1' -fa 'status' -d 'Who holds the operations lock. Exit 0 free, 1 held.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_positional "whisperctl lock" -eq 1' -fa 'break' -d 'Remove the lock of a holder whose heartbeat stopped (a crashed or hung command).'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" json' -l 'json' -d 'Print JSON.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" config' -l 'config' -d 'The deployment file.' -rfa '(set -l exts \'yml\' \'yaml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" redis' -l 'redis' -d 'Redis address (host:port), overriding redis.addr.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" database-url' -l 'database-url' -d 'PostgreSQL URL, overriding postgres.url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" nats-monitor' -l 'nats-monitor' -d 'NATS monitoring URL, overriding nats.monitor_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" haproxy-stats' -l 'haproxy-stats' -d 'HAProxy stats URL, overriding haproxy.stats_url.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break"' -l 'server' -d 'A server as NAME=URL; repeat it; replaces servers.' -rfka ''
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" yes' -l 'yes' -d 'Do not ask for confirmation.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" force' -l 'force' -d 'Break it even though the holder\'s heartbeat is recent.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" version' -l 'version' -d 'Show the version.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl lock break" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'whisperctl' -n '__whisperctl_should_offer_completions_for_flags_or_options "whisperctl help" version' -l 'version' -d 'Show the version.'
