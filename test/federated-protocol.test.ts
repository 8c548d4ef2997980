// The round protocol over aedes, an MQTT broker inside the test process, with authentication and
// the protocol's topic permissions (examples/federated-broker.ts): the scenarios of
// federated-scenarios.ts.
import { startBroker } from '../examples/federated-broker.js';
import { defineScenarios } from './federated-scenarios.js';

defineScenarios('aedes in process', startBroker, true);
