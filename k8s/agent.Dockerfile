# netlab's agent on a cluster's hosts (k8s/agent.yaml): this build of netlab
# and its node init, nothing else. Build it from the folder that holds
# them: docker build -f k8s/agent.Dockerfile -t netlab/agent:1 bin
FROM scratch
COPY netlab netlab-init /
ENTRYPOINT ["/netlab", "_agent", "idle"]
