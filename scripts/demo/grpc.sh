# gRPC (14b-grpc-inventory.yaml): a real grpc-java server, sieve.demo.Inventory, on the api-server
# (10.244.1.30:50051) and a grpc-java client in the api-consumer that calls GetItem (allowed) and DeleteItem
# (denied: the proxy answers grpc-status 7, the client sees PERMISSION_DENIED) each second, on one HTTP/2
# connection. Both run from proxy/target/test-classes (InventoryGrpc, GrpcDemo); the client's log,
# $work/grpc-client.log, prints each change of outcome. Sourced by scripts/run.sh (uses ns, pids, work, log).
grpc_java=${SIEVE_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
grpc_cp="$root/proxy/target/test-classes:$root/proxy/target/classes:$root/proxy/target/test-lib/*"
grpc_jvm=(-Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
if [ ! -d "$root/proxy/target/test-lib" ]; then
  log "== grpc: proxy/target/test-lib missing (run 'make build'); no gRPC in this demo"
else
  ip netns exec "$(ns api-server)" "$grpc_java" "${grpc_jvm[@]}" -cp "$grpc_cp" dev.sieve.proxy.http.GrpcDemo server 10.244.1.30 50051 \
    >"$work/grpc-server.log" 2>&1 &
  pids+=($!)
  ip netns exec "$(ns api-consumer)" "$grpc_java" "${grpc_jvm[@]}" -cp "$grpc_cp" dev.sieve.proxy.http.GrpcDemo client 10.244.1.30:50051 \
    >"$work/grpc-client.log" 2>&1 &
  pids+=($!)
  log "== grpc: sieve.demo.Inventory on api-server 10.244.1.30:50051 (grpc-java); the api-consumer calls GetItem"
  log "   (allowed) and DeleteItem (PERMISSION_DENIED) each second: sieve observe --protocol http --http-path DeleteItem"
fi
