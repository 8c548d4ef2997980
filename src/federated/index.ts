// Federated IVON over MQTT (docs/FEDERATED.md): the precision-weighted product of posteriors, the
// round arithmetic, the coordinator and client of the round protocol, the wire format, the transport
// interface with its MQTT implementation (the `mqtt` package, loaded on first use), the broker ACL,
// and the client trainers for this library's optimizers.
export { productOfPosteriors, productOfSites, type AbsolutePrior, type ProductOptions, type ProductResult } from '../posterior/product.js';
export {
  aggregateRound,
  boundUpdate,
  clientPrior,
  fedAvg,
  roundPrior,
  AGGREGATION_RULES,
  type AggregationRule,
  type ClientUpdate,
  type InfluenceLimits,
} from './aggregate.js';
export { emptySite, cavityOf, updateSite, globalOfSites, type Site } from './sites.js';
export { Coordinator, fileCheckpointStore, opfsCheckpointStore, type CoordinatorOptions, type CheckpointStore, type FederatedEvent } from './coordinator.js';
export { FederatedClient, type ClientOptions, type ClientEvent } from './client.js';
export { encodeMessage, decodeMessage, FederatedMessageError, WIRE_FORMAT, type Message, type MessageKind, type WireExpectation } from './wire.js';
export { topicsFor, type Transport, type PublishOptions, type MessageHandler, type Topics } from './transport.js';
export { connectMqtt, type MqttTransportOptions, type MqttModule } from './mqtt.js';
export { accessRules, mosquittoAcl, type AccessRules } from './acl.js';
export { ivonTrainer, adamwTrainer, pointPosterior, type IvonTrainerOptions, type AdamwTrainerOptions } from './trainers.js';
