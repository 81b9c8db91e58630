#!/bin/sh
# Entrypoint of the kubelab web image (stand-in for nginx/httpd): runs its command (busybox httpd by
# default) and stops it on SIGTERM, SIGINT or SIGQUIT, so a pod shuts down promptly.
trap 'kill $child 2>/dev/null; exit 0' TERM INT QUIT
"$@" &
child=$!
wait $child
