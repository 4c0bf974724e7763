// Generated from protocol/proto/proposal.proto by protocol/proposal/generate.ts. Do not edit.
export const proposalSchema = {
  "nested": {
    "liqnet": {
      "nested": {
        "proposal": {
          "nested": {
            "v1": {
              "nested": {
                "PinnedBlock": {
                  "fields": {
                    "chainId": {
                      "type": "uint64",
                      "id": 1,
                      "protoName": "chain_id"
                    },
                    "blockNumber": {
                      "type": "uint64",
                      "id": 2,
                      "protoName": "block_number"
                    },
                    "blockHash": {
                      "type": "bytes",
                      "id": 3,
                      "protoName": "block_hash"
                    },
                    "timestamp": {
                      "type": "uint64",
                      "id": 4
                    }
                  }
                },
                "SnapshotRef": {
                  "fields": {
                    "chainId": {
                      "type": "uint64",
                      "id": 1,
                      "protoName": "chain_id"
                    },
                    "kind": {
                      "type": "uint32",
                      "id": 2
                    },
                    "scope": {
                      "type": "bytes",
                      "id": 3
                    },
                    "part": {
                      "type": "uint32",
                      "id": 4
                    },
                    "operator": {
                      "type": "bytes",
                      "id": 5
                    },
                    "digest": {
                      "type": "bytes",
                      "id": 6
                    }
                  }
                },
                "ProposalValue": {
                  "fields": {
                    "version": {
                      "type": "uint32",
                      "id": 1
                    },
                    "height": {
                      "type": "uint64",
                      "id": 2
                    },
                    "pins": {
                      "rule": "repeated",
                      "type": "PinnedBlock",
                      "id": 3
                    },
                    "snapshots": {
                      "rule": "repeated",
                      "type": "SnapshotRef",
                      "id": 4
                    },
                    "paramsDigest": {
                      "type": "bytes",
                      "id": 5,
                      "protoName": "params_digest"
                    },
                    "planHash": {
                      "type": "bytes",
                      "id": 6,
                      "protoName": "plan_hash"
                    },
                    "settlementPlan": {
                      "type": "bytes",
                      "id": 7,
                      "protoName": "settlement_plan"
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
} as const
