# Login shells in a lab sandbox: say which host (network namespace) this shell lives in,
# since a lab's terminal tabs are shells in different namespaces of one sandbox.
wirelab_host=$(ip netns identify 2>/dev/null)
wirelab_host=${wirelab_host:-${WIRELAB_HOST:-lab}}
if [ -n "$BASH_VERSION" ]; then
  PS1='\[\e[1;32m\]root@'"$wirelab_host"'\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]# '
  [ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
fi
alias ls='ls --color=auto'
alias ip='ip -color=auto'
export LANG=C.UTF-8
cd /root 2>/dev/null || true
