// A testcontainers session that never ends on its own: it starts a container and a network, prints their IDs, and waits.
const { GenericContainer, Network } = await import('testcontainers');
const network = await new Network().start();
const container = await new GenericContainer('bb').withCommand(['sleep', '600']).withNetwork(network).start();
console.log(JSON.stringify({ container: container.getId(), network: network.getId() }));
setInterval(() => {}, 1 << 30);
