#!/usr/bin/env bash
# Starts NATS (with JetStream) and RabbitMQ when they are installed but not answering, and waits
# until both accept connections. The relay's tests need them; CI runs this before `npm test`.
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 120); do
    if answers "$port"; then return 0; fi
    sleep 1
  done
  echo "ensure-brokers: $name did not start listening on 127.0.0.1:$port" >&2
  return 1
}

if ! answers 4222; then
  if [ -x /usr/sbin/nats-server ]; then
    echo "ensure-brokers: starting NATS with JetStream"
    mkdir -p /var/lib/nats-server
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
    wait_for NATS 4222
  else
    echo "ensure-brokers: NATS is neither running on 127.0.0.1:4222 nor installed (/usr/sbin/nats-server)" >&2
  fi
fi

if ! answers 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "ensure-brokers: starting RabbitMQ"
    rabbitmq-server -detached
    wait_for RabbitMQ 5672
  else
    echo "ensure-brokers: RabbitMQ is neither running on 127.0.0.1:5672 nor installed (rabbitmq-server)" >&2
  fi
fi
