# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_vllm_mux_global_optspecs
    string join \n config= json y/yes no-input q/quiet v/verbose h/help V/version
end

function __fish_vllm_mux_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_vllm_mux_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_vllm_mux_using_subcommand
    set -l cmd (__fish_vllm_mux_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "init" -d 'Create a config: proxy host, port and features'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "add-model" -d 'Add a model to the config'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "edit-model" -d 'Change one model; only the flags given change'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "edit-proxy" -d 'Change the proxy\'s settings; only the flags given change, models stay'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "remove-model" -d 'Delete one model from the config'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "list" -d 'List saved configs: models, proxy port, running or not'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "show" -d 'Show the config: proxy settings and a table of models'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "gpus" -d 'Show GPUs: memory, utilization, and which models claim them'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "models" -d 'List models already downloaded into the Hugging Face cache'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "start" -d 'Start the supervisor, the proxy and every enabled model'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "status" -d 'Show the proxy and every model\'s state'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "logs" -d 'Print or follow logs of the proxy, one model, or all of them'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "stop" -d 'Stop everything, or one model'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "start-model" -d 'Start one stopped model again'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "wait" -d 'Wait until the running models (or those named) are ready or failed'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "reload" -d 'Apply config changes to the running supervisor; untouched models keep running'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "export" -d 'Print the config as JSON, or as what a Kubernetes cluster runs'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "import" -d 'Save a config from a file: ours, a vllm-cli proxy config, or llama-swap\'s config.yaml'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "lora" -d 'Add, remove or list a model\'s LoRA adapters, also while it runs'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "profiles" -d 'List built-in and user profiles (named sets of engine flags)'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "shortcuts" -d 'List saved shortcuts, or add or remove one'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "mock-engine" -d 'Run the built-in OpenAI-compatible stand-in for vLLM (used by the mock engine)'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "supervise" -d 'Run the supervisor (what \'start\' launches in the background)'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "guard" -d 'Run an engine in this process group and kill the group when stdin closes'
complete -c vllm-mux -n "__fish_vllm_mux_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l host -d 'Interface the proxy listens on' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l port -d 'Port the proxy listens on' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l api-key-env -d 'Require clients to send the key held in this environment variable' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l no-cors -d 'Do not send CORS headers'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l no-metrics -d 'Do not serve /metrics'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l log-requests -d 'Log one line per request'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l force -d 'Replace an existing config of this name (the old file is kept as .bak)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand init" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l model -d 'Hugging Face id or local path of the weights' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l alias -d 'Another name clients may send (repeat for more; edit-model replaces the list)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l gpus -d 'GPU indexes, comma-separated; their count sets tensor parallelism. `none`: no GPU at all (vLLM\'s CPU build), with CUDA_VISIBLE_DEVICES empty' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l port -d 'Local port of the model\'s server (default: next free from 8001)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l profile -d 'Profile of engine flags (see \'vllm-mux profiles\')' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l shortcut -d 'Take model, profile and overrides from a saved shortcut' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l lora -d 'A LoRA adapter clients may ask for by name (repeat for more; edit-model replaces the list)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l priority -d 'Loading order: lower starts first, equal values together, unset last' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l engine -d 'What serves the model' -r -f -a "vllm\t'`vllm serve` (the default)'
mock\t'The built-in OpenAI-compatible stand-in (`vllm-mux mock-engine`), no GPU needed'
command\t'Any OpenAI-compatible server from a command template'
url\t'A model already served elsewhere: nothing is launched'"
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l command -d 'Command engine: template with {port}, {host}, {name}, {model}' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l health-path -d 'Command and url engines: health check path (default /health)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l url -d 'Url engine: where the model is already served' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l backend-api-key-env -d 'Environment variable holding the key the model\'s server wants; the proxy sends it to the server (vllm and mock get it as VLLM_API_KEY)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l idle-timeout -d 'Stop the model\'s server after SECS without requests; the next request starts it again and waits for it (frees its GPUs meanwhile)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l max-concurrent -d 'The most requests each copy\'s server gets at once; more wait in the model\'s queue (see --max-queue)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l max-queue -d 'The most requests that may wait for the model (for a slot, or for its load); beyond, 429 with Retry-After' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l gpu-memory-gib -d 'In a swap group: the GPU memory its server needs on each of its GPUs, in GiB (else its --gpu-memory-utilization, 0.9 unless set)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l swap-group -d 'Take turns with the other models of this group: they may share GPUs, one runs at a time, and a request for another swaps it in' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l env -d 'An environment variable for the model\'s server, e.g. VLLM_ATTENTION_BACKEND=FLASHINFER (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l set -d 'An engine flag: max_model_len=8192 becomes --max-model-len 8192 (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l gpu-memory-utilization -d 'Fraction of GPU memory for this model; lets models share a GPU' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l replica -d 'Another copy on these GPUs, e.g. 1 or 2,3:8011 (repeat for more; edit-model replaces the list). Requests go to the least busy copy' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l pinned -d 'In a swap group: never evicted to make room for another member'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l sleep-mode -d 'When idle (--idle-timeout, or its swap group runs another), put the server to sleep (vLLM sleep mode: weights to CPU memory) instead of stopping it; it wakes in seconds. vllm and mock engines'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l disabled -d 'Keep the model in the config but do not start it'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand add-model" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l model -d 'Hugging Face id or local path of the weights' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l alias -d 'Another name clients may send (repeat for more; edit-model replaces the list)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l gpus -d 'GPU indexes, comma-separated; their count sets tensor parallelism. `none`: no GPU at all (vLLM\'s CPU build), with CUDA_VISIBLE_DEVICES empty' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l port -d 'Local port of the model\'s server (default: next free from 8001)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l profile -d 'Profile of engine flags (see \'vllm-mux profiles\')' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l shortcut -d 'Take model, profile and overrides from a saved shortcut' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l lora -d 'A LoRA adapter clients may ask for by name (repeat for more; edit-model replaces the list)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l priority -d 'Loading order: lower starts first, equal values together, unset last' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l engine -d 'What serves the model' -r -f -a "vllm\t'`vllm serve` (the default)'
mock\t'The built-in OpenAI-compatible stand-in (`vllm-mux mock-engine`), no GPU needed'
command\t'Any OpenAI-compatible server from a command template'
url\t'A model already served elsewhere: nothing is launched'"
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l command -d 'Command engine: template with {port}, {host}, {name}, {model}' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l health-path -d 'Command and url engines: health check path (default /health)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l url -d 'Url engine: where the model is already served' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l backend-api-key-env -d 'Environment variable holding the key the model\'s server wants; the proxy sends it to the server (vllm and mock get it as VLLM_API_KEY)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l idle-timeout -d 'Stop the model\'s server after SECS without requests; the next request starts it again and waits for it (frees its GPUs meanwhile)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l max-concurrent -d 'The most requests each copy\'s server gets at once; more wait in the model\'s queue (see --max-queue)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l max-queue -d 'The most requests that may wait for the model (for a slot, or for its load); beyond, 429 with Retry-After' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l gpu-memory-gib -d 'In a swap group: the GPU memory its server needs on each of its GPUs, in GiB (else its --gpu-memory-utilization, 0.9 unless set)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l swap-group -d 'Take turns with the other models of this group: they may share GPUs, one runs at a time, and a request for another swaps it in' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l env -d 'An environment variable for the model\'s server, e.g. VLLM_ATTENTION_BACKEND=FLASHINFER (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l set -d 'An engine flag: max_model_len=8192 becomes --max-model-len 8192 (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l gpu-memory-utilization -d 'Fraction of GPU memory for this model; lets models share a GPU' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l replica -d 'Another copy on these GPUs, e.g. 1 or 2,3:8011 (repeat for more; edit-model replaces the list). Requests go to the least busy copy' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l unset -d 'Remove an engine flag set with --set (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l unset-env -d 'Remove an environment variable set with --env (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l clear -d 'Empty a field (repeat for more)' -r -f -a "aliases\t''
gpus\t''
port\t''
profile\t''
loras\t''
priority\t''
overrides\t''
health-path\t''
replicas\t''
backend-api-key-env\t''
idle-timeout\t''
max-concurrent\t''
max-queue\t''
pinned\t''
gpu-memory-gib\t''
environment\t''
swap-group\t''
sleep-mode\t''"
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l pinned -d 'In a swap group: never evicted to make room for another member'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l sleep-mode -d 'When idle (--idle-timeout, or its swap group runs another), put the server to sleep (vLLM sleep mode: weights to CPU memory) instead of stopping it; it wakes in seconds. vllm and mock engines'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l disabled -d 'Keep the model in the config but do not start it'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l enabled -d 'Start the model again with the others (undoes --disabled)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-model" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l host -d 'Interface the proxy listens on' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l port -d 'Port the proxy listens on' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l api-key-env -d 'Require clients to send the key held in this environment variable' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l set -d 'Another proxy setting, e.g. queue_timeout_s=30 (repeat for more): startup_timeout_s, health_interval_ms, unhealthy_after, queue_timeout_s, backend_timeout_s, client_header_timeout_s, gpu_sample_interval_s, min_residency_s, max_wait_s, scheduler (batch or llama-swap), sleep_memory_gib' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l cors -d 'Send CORS headers'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l no-cors -d 'Do not send CORS headers'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l metrics -d 'Serve /metrics'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l no-metrics -d 'Do not serve /metrics'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l log-requests -d 'Log one line per request'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l no-log-requests -d 'Stop logging a line per request'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l no-api-key -d 'Require no key'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand edit-proxy" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand remove-model" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand list" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand show" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand gpus" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand models" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -l timeout -d 'Seconds to wait for the models to be ready or failed (they keep starting after)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -l foreground -d 'Run in this terminal instead of the background (for containers and systemd)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -l no-wait -d 'Return at once, without waiting for the models to be ready or failed'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -l watch -d 'Refresh every 2 seconds until Ctrl-C'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand status" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s n -l lines -d 'How many lines from the end to print first [default: 50; all with --since]' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -l since -d 'Only lines from this time on: a duration ago (30m, 2h, 1d) or a UTC time (2026-11-26T07:00:00Z, "2026-11-26 07:00:00")' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s f -l follow -d 'Keep printing new lines as they come'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand logs" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -l timeout -d 'Seconds to wait after SIGTERM before SIGKILL' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand stop" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -l timeout -d 'Seconds to wait for the models to be ready or failed (they keep starting after)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -l no-wait -d 'Return at once, without waiting for the models to be ready or failed'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand start-model" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -l timeout -d 'Give up after this many seconds (the models keep starting)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand wait" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -l timeout -d 'Seconds to wait for the models to be ready or failed (they keep starting after)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -l no-wait -d 'Return at once, without waiting for the models to be ready or failed'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand reload" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -s o -l output -d 'Write to this file instead of standard output' -r -F
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l format -d 'What to write' -r -f -a "json\t'The config itself, canonical JSON'
kubernetes\t'Deployments and Services for each model, and vllm-mux as the router'
production-stack\t'Values for vLLM production-stack\'s Helm chart (its own router)'"
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l image -d 'kubernetes: the vllm-mux image the router (and mock engines) run [default: vllm-mux:VERSION, built from the Dockerfile]' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l vllm-image -d 'kubernetes, production-stack: the vLLM image the engines run [default: vllm/vllm-openai:v0.32.0]' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l namespace -d 'kubernetes: the namespace of every object (default: kubectl\'s; for production-stack, give helm -n)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l hf-cache-claim -d 'kubernetes, production-stack: a PersistentVolumeClaim for the Hugging Face cache, shared by the engines (default: each pod downloads its own)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l secret -d 'kubernetes, production-stack: the Secret that holds the keys the pods read (by reference; the output holds no key) [default: vllm-mux-keys]' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand export" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -l name -d 'Save under this name (default: --config if given, else the file\'s name)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -l force -d 'Replace a config of the same name (the old file is kept as .bak)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand import" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -f -a "add" -d 'Add an adapter to a model (and load it, if the config runs)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -f -a "remove" -d 'Remove an adapter (and unload it, if the config runs)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -f -a "list" -d 'List the adapters of every model, or of one, and where each is loaded'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and not __fish_seen_subcommand_from add remove list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an adapter to a model (and load it, if the config runs)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an adapter (and unload it, if the config runs)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the adapters of every model, or of one, and where each is loaded'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand lora; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand profiles" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -f -a "add" -d 'Save a shortcut: a model, a profile and engine flags under one name'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -f -a "remove" -d 'Delete a shortcut'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and not __fish_seen_subcommand_from add remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l model -d 'Hugging Face id or local path of the weights' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l profile -d 'Profile of engine flags' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l set -d 'An engine flag, as in add-model (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l description -d 'A line saying what it is for' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l force -d 'Replace a shortcut of the same name'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from help" -f -a "add" -d 'Save a shortcut: a model, a profile and engine flags under one name'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Delete a shortcut'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand shortcuts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand completions" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l port -d 'Port to listen on' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l host -d 'Address to listen on (0.0.0.0 in a container)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l served-model-name -d 'The model name it answers to' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l startup-delay-ms -d 'Wait this long before /health answers 200' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l token-delay-ms -d 'Delay between streamed tokens' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l tokens -d 'Tokens in each completion' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l crash-after -d 'Exit after this many requests' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l lora -d 'A LoRA adapter name it also answers to (repeat for more)' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l api-key -d 'Require `Authorization: Bearer KEY` on /v1/*, as vLLM does' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l fail-health -d 'Answer /health with 503'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l ignore-sigterm -d 'Ignore SIGTERM (to test the SIGKILL fallback)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand mock-engine" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand supervise" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -l config -d 'Which saved config to use' -r
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -l json -d 'Print machine-readable JSON instead of tables and messages'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -s y -l yes -d 'Answer yes to every question; never prompt'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -l no-input -d 'Never prompt; a missing value is an error naming its flag'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -s q -l quiet -d 'Print only errors and requested data'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -s v -l verbose -d 'Print more detail (repeat for more)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -s h -l help -d 'Print help'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand guard" -s V -l version -d 'Print version'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "init" -d 'Create a config: proxy host, port and features'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "add-model" -d 'Add a model to the config'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "edit-model" -d 'Change one model; only the flags given change'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "edit-proxy" -d 'Change the proxy\'s settings; only the flags given change, models stay'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "remove-model" -d 'Delete one model from the config'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "list" -d 'List saved configs: models, proxy port, running or not'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "show" -d 'Show the config: proxy settings and a table of models'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "gpus" -d 'Show GPUs: memory, utilization, and which models claim them'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "models" -d 'List models already downloaded into the Hugging Face cache'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "start" -d 'Start the supervisor, the proxy and every enabled model'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "status" -d 'Show the proxy and every model\'s state'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "logs" -d 'Print or follow logs of the proxy, one model, or all of them'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "stop" -d 'Stop everything, or one model'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "start-model" -d 'Start one stopped model again'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "wait" -d 'Wait until the running models (or those named) are ready or failed'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "reload" -d 'Apply config changes to the running supervisor; untouched models keep running'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "export" -d 'Print the config as JSON, or as what a Kubernetes cluster runs'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "import" -d 'Save a config from a file: ours, a vllm-cli proxy config, or llama-swap\'s config.yaml'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "lora" -d 'Add, remove or list a model\'s LoRA adapters, also while it runs'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "profiles" -d 'List built-in and user profiles (named sets of engine flags)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "shortcuts" -d 'List saved shortcuts, or add or remove one'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "completions" -d 'Print a shell completion script'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "mock-engine" -d 'Run the built-in OpenAI-compatible stand-in for vLLM (used by the mock engine)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "supervise" -d 'Run the supervisor (what \'start\' launches in the background)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "guard" -d 'Run an engine in this process group and kill the group when stdin closes'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and not __fish_seen_subcommand_from init add-model edit-model edit-proxy remove-model list show gpus models start status logs stop start-model wait reload export import lora profiles shortcuts completions mock-engine supervise guard help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and __fish_seen_subcommand_from lora" -f -a "add" -d 'Add an adapter to a model (and load it, if the config runs)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and __fish_seen_subcommand_from lora" -f -a "remove" -d 'Remove an adapter (and unload it, if the config runs)'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and __fish_seen_subcommand_from lora" -f -a "list" -d 'List the adapters of every model, or of one, and where each is loaded'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and __fish_seen_subcommand_from shortcuts" -f -a "add" -d 'Save a shortcut: a model, a profile and engine flags under one name'
complete -c vllm-mux -n "__fish_vllm_mux_using_subcommand help; and __fish_seen_subcommand_from shortcuts" -f -a "remove" -d 'Delete a shortcut'
