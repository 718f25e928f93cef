// Prints the DaemonSet's agent arguments and host mounts as JSON, for the
// C++ test that starts the real agent with them (deploy_agent_test.cpp).
import { agentSpec } from "./manifests.mjs";

process.stdout.write(JSON.stringify(agentSpec()) + "\n");
