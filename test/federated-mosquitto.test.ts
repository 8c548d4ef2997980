// The same scenarios against Debian's mosquitto 2 as a real broker process (password file and the
// acl_file from mosquittoAcl). scripts/test.sh installs mosquitto; without it this test fails
// (saying what to install), it never skips.
import { startMosquitto } from '../examples/federated-broker.js';
import { defineScenarios } from './federated-scenarios.js';

defineScenarios('mosquitto', (o) => startMosquitto(o), false);
