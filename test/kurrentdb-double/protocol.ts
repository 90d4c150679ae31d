// The gRPC service definitions and message classes of KurrentDB's v1 protocol, loaded from the
// code generated inside @kurrent/kurrentdb-client (protoc output shipped in its `generated/`
// folder). Nothing is copied: the double speaks exactly the protocol this client version speaks,
// and a client upgrade that changes a message shows up here as a type or test failure.
import { createRequire } from 'node:module';

const fromClient = createRequire(require.resolve('@kurrent/kurrentdb-client/package.json'));
const V1 = '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1';

export const streamsGrpc = fromClient(`${V1}/streams_grpc_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb');
export const streamsPb = fromClient(`${V1}/streams_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb');
export const sharedPb = fromClient(`${V1}/shared_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb');
export const statusPb = fromClient(`${V1}/status_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/status_pb');
export const codePb = fromClient(`${V1}/code_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/code_pb');
export const serverFeaturesGrpc = fromClient(`${V1}/serverfeatures_grpc_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb');
export const serverFeaturesPb = fromClient(`${V1}/serverfeatures_pb`) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb');
export const anyPb = fromClient('google-protobuf/google/protobuf/any_pb') as typeof import('google-protobuf/google/protobuf/any_pb');
export const emptyPb = fromClient('google-protobuf/google/protobuf/empty_pb') as typeof import('google-protobuf/google/protobuf/empty_pb');
export const timestampPb = fromClient('google-protobuf/google/protobuf/timestamp_pb') as typeof import('google-protobuf/google/protobuf/timestamp_pb');
// The server must use the grpc-js the client's generated code was built against.
export const grpc = fromClient('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
