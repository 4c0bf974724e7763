// Generated from protocol/proto/consensus.proto by protocol/consensus/generate-schema.ts. Do not edit.
export const consensusSchema = {
  "nested": {
    "liqnet": {
      "nested": {
        "consensus": {
          "nested": {
            "v1": {
              "nested": {
                "QbftKind": {
                  "values": {
                    "QBFT_KIND_UNSPECIFIED": 0,
                    "PROPOSAL": 1,
                    "PREPARE": 2,
                    "COMMIT": 3,
                    "ROUND_CHANGE": 4
                  }
                },
                "QbftSignedMessage": {
                  "fields": {
                    "kind": {
                      "type": "QbftKind",
                      "id": 1
                    },
                    "height": {
                      "type": "uint64",
                      "id": 2
                    },
                    "round": {
                      "type": "uint32",
                      "id": 3
                    },
                    "digest": {
                      "type": "bytes",
                      "id": 4
                    },
                    "preparedRound": {
                      "type": "uint32",
                      "id": 5,
                      "protoName": "prepared_round"
                    },
                    "preparedDigest": {
                      "type": "bytes",
                      "id": 6,
                      "protoName": "prepared_digest"
                    },
                    "signer": {
                      "type": "bytes",
                      "id": 7
                    },
                    "signature": {
                      "type": "bytes",
                      "id": 8
                    }
                  }
                },
                "QbftSealedCommit": {
                  "fields": {
                    "commit": {
                      "type": "QbftSignedMessage",
                      "id": 1
                    },
                    "seal": {
                      "type": "bytes",
                      "id": 2
                    }
                  }
                },
                "QbftPacket": {
                  "fields": {
                    "message": {
                      "type": "QbftSignedMessage",
                      "id": 1
                    },
                    "value": {
                      "type": "bytes",
                      "id": 2
                    },
                    "commitSeal": {
                      "type": "bytes",
                      "id": 3,
                      "protoName": "commit_seal"
                    },
                    "roundChangeJustification": {
                      "rule": "repeated",
                      "type": "QbftSignedMessage",
                      "id": 4,
                      "protoName": "round_change_justification"
                    },
                    "prepareJustification": {
                      "rule": "repeated",
                      "type": "QbftSignedMessage",
                      "id": 5,
                      "protoName": "prepare_justification"
                    },
                    "decidedCommits": {
                      "rule": "repeated",
                      "type": "QbftSealedCommit",
                      "id": 6,
                      "protoName": "decided_commits"
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
