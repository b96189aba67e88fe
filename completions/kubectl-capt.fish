# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_capt_global_optspecs
    string join \n kubeconfig= context= n/namespace= A/all-namespaces o/output= color= v/verbose request-timeout= h/help V/version
end

function __fish_kubectl_capt_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_capt_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_capt_using_subcommand
    set -l cmd (__fish_kubectl_capt_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "status" -d 'What the CAPTControlPlane controller would decide now, why, and when it would requeue'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "reconcile" -d 'Run one reconcile pass now with the optimised intervals, writing only what differs'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "watch" -d 'Live reconcile, write and event rates per object; flags hot loops and says why'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "analyze" -d 'Find hot loops after the fact in audit logs, controller logs, watch dumps, events, metrics'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "version" -d 'Print the version of kubectl-capt (and of the API server, when reachable)'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "crds" -d 'Print the CustomResourceDefinitions kubectl-capt\'s tests install (generated from its types)'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "__complete" -d 'Dynamic completion for `kubectl capt <TAB>` (used by kubectl_complete-capt)'
complete -c kubectl-capt -n "__fish_kubectl_capt_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -l fail-if-not-ready -d 'Exit 3 when an object is not ready'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand status" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l dry-run -d 'Print (client) or validate (server) the plan without changing anything' -r -f -a "client\t'Print the plan only; nothing is sent'
server\t'Send every write with dryRun=All and report what the API server accepted'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l until -d 'With --follow: stop when this is reached' -r -f -a "ready\t'Stop once the CAPTControlPlane is Ready'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l timeout -d 'Give up after this long (--follow, --nudge), e.g. 90s, 10m (more than 0)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l controller-logs -d 'With --nudge: the controller\'s log file, where a pass that writes nothing still shows' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l metrics-url -d 'With --nudge: the controller\'s metrics (API server path or http:// URL); its reconcile counter rising shows a pass (controller-wide)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l max-conflict-retries -d 'Retries after a 409 conflict before giving up (0-10; the other-writer guard runs before each, with a jittered back-off between them)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l controller-namespace -d 'Namespace of the CAPT controller (where its leader-election Lease lives)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l lease-name -d 'Name of CAPT\'s leader-election Lease (Leases held by capt-controller-manager pods also count)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l pause-before-apply -d 'Test hook: wait this long between reading and writing (to inject conflicts)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l force -d 'Write even when another writer is live (two writers of one status are a hot loop)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l follow -d 'Keep reconciling at the returned interval until Ctrl-C, --until or --timeout'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -l nudge -d 'Make the in-cluster controller reconcile now instead of running the core here'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand reconcile" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l duration -d 'Run this long, print the final result and exit (3 if anything was HOT), e.g. 30s (more than 0)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s l -l selector -d 'Label selector for the watched objects' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l kind -d 'Kinds to watch (repeatable; default: the CAPT kinds). Any served resource: deployments.apps' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l controller-namespace -d 'Namespace of the controller pods whose logs count reconcile passes' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l controller-selector -d 'Label selector of the controller pods' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l controller-logs -d 'Read controller logs from a file or - (stdin) instead of the pods/log API' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l metrics-url -d 'Scrape controller-runtime metrics from this URL' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l trace-writes -d 'Append `<unix ms> <resourceVersion>` for every write the detector folds in (watch lag measurements, scripts/bench-watch)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l hot-rate -d 'HOT: at least this many writes or passes per second (more than 0, at most 1000)...' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l hot-for -d '...sustained this long (whole seconds, 1s to 60s)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l hot-factor -d 'HOT: or more than this many times the expected rate over 1 minute (1 to 1000)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l once -d 'Take one short sample (10s), print it and exit'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l no-logs -d 'Do not read controller logs'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l no-events -d 'Do not read Events'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -l all -d 'On the live screen, list quiet objects too instead of folding them into one line (key a)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand watch" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l format -d 'Force the input format instead of detecting it' -r -f -a "auto\t'Detect per file'
audit\t'Kubernetes audit log (audit.k8s.io/v1, v1beta1; cloud envelopes)'
logs\t'Controller logs: zap console, zap JSON, klog (CRI prefixes allowed)'
watch\t'`kubectl get -w --output-watch-events -o json|yaml`'
events\t'`kubectl get events -o json` or a JSON array of Events'
metrics\t'Prometheus text scrapes'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l plot -d 'Draw the timeline of the top objects (one heat strip each, HOT periods marked) to an .svg file' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l now -d 'The time pasted kubectl output was taken (its ages are relative), RFC 3339; default: each file\'s modification time (stdin: now)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l top -d 'How many objects the table, timeline and plot show (1 to 10000)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l hot-rate -d 'HOT: at least this many writes or passes per second (more than 0, at most 1000)...' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l hot-for -d '...sustained this long (whole seconds, 1s to 60s)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l hot-factor -d 'HOT: or more than this many times the expected rate over 1 minute (1 to 1000)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand analyze" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -l client -d 'Only the client version; do not contact the API server'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand version" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand crds" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -s n -l namespace -d 'Namespace (default: the context\'s namespace, else "default")' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -s o -l output -d 'Output format' -r -f -a "table\t'Human-readable table'
wide\t'Table with extra columns'
json\t'JSON document (NDJSON for `watch`)'
yaml\t'YAML document'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -l color -d 'When to colour table output (NO_COLOR and CLICOLOR_FORCE are honoured with "auto")' -r -f -a "auto\t'Colour when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"'
always\t'Always colour'
never\t'Never colour'"
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -l request-timeout -d 'Timeout for each API request, e.g. 10s (1s to 1h)' -r
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -s v -l verbose -d 'More detail on stderr (-v requests, -vv bodies without Secret data)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand __complete" -s V -l version -d 'Print version'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "status" -d 'What the CAPTControlPlane controller would decide now, why, and when it would requeue'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "reconcile" -d 'Run one reconcile pass now with the optimised intervals, writing only what differs'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "watch" -d 'Live reconcile, write and event rates per object; flags hot loops and says why'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "analyze" -d 'Find hot loops after the fact in audit logs, controller logs, watch dumps, events, metrics'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "version" -d 'Print the version of kubectl-capt (and of the API server, when reachable)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "crds" -d 'Print the CustomResourceDefinitions kubectl-capt\'s tests install (generated from its types)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "__complete" -d 'Dynamic completion for `kubectl capt <TAB>` (used by kubectl_complete-capt)'
complete -c kubectl-capt -n "__fish_kubectl_capt_using_subcommand help; and not __fish_seen_subcommand_from status reconcile watch analyze completion version crds __complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
