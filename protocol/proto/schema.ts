// Generated from liqnet.proto by protocol/proto/generate.ts. Do not edit.
export const liqnetSchema = {
  "nested": {
    "liqnet": {
      "nested": {
        "v1": {
          "nested": {
            "LendingProtocol": {
              "values": {
                "LENDING_PROTOCOL_UNSPECIFIED": 0,
                "MORPHO_BLUE": 1,
                "AAVE_V3": 2
              }
            },
            "Venue": {
              "values": {
                "VENUE_UNSPECIFIED": 0,
                "UNISWAP_V2": 1
              }
            },
            "PayloadKind": {
              "values": {
                "PAYLOAD_KIND_UNSPECIFIED": 0,
                "HEALTH_SNAPSHOT": 1,
                "LIQUIDITY_SNAPSHOT": 2
              }
            },
            "AccountHealth": {
              "fields": {
                "borrower": {
                  "type": "bytes",
                  "id": 1
                },
                "collateral": {
                  "type": "bytes",
                  "id": 2
                },
                "borrowAssets": {
                  "type": "bytes",
                  "id": 3,
                  "protoName": "borrow_assets"
                },
                "healthFactor": {
                  "type": "bytes",
                  "id": 4,
                  "protoName": "health_factor"
                },
                "liquidatable": {
                  "type": "bool",
                  "id": 5
                },
                "maxSeizable": {
                  "type": "bytes",
                  "id": 6,
                  "protoName": "max_seizable"
                },
                "borrowShares": {
                  "type": "bytes",
                  "id": 7,
                  "protoName": "borrow_shares"
                },
                "balances": {
                  "rule": "repeated",
                  "type": "AaveBalance",
                  "id": 8
                }
              }
            },
            "AaveBalance": {
              "fields": {
                "reserve": {
                  "type": "uint32",
                  "id": 1
                },
                "collateral": {
                  "type": "bytes",
                  "id": 2
                },
                "debt": {
                  "type": "bytes",
                  "id": 3
                }
              }
            },
            "MorphoMarketState": {
              "fields": {
                "loanToken": {
                  "type": "bytes",
                  "id": 1,
                  "protoName": "loan_token"
                },
                "collateralToken": {
                  "type": "bytes",
                  "id": 2,
                  "protoName": "collateral_token"
                },
                "lltv": {
                  "type": "bytes",
                  "id": 3
                },
                "totalSupplyAssets": {
                  "type": "bytes",
                  "id": 4,
                  "protoName": "total_supply_assets"
                },
                "totalBorrowAssets": {
                  "type": "bytes",
                  "id": 5,
                  "protoName": "total_borrow_assets"
                },
                "totalBorrowShares": {
                  "type": "bytes",
                  "id": 6,
                  "protoName": "total_borrow_shares"
                },
                "oraclePrice": {
                  "type": "bytes",
                  "id": 7,
                  "protoName": "oracle_price"
                }
              }
            },
            "AaveReserveState": {
              "fields": {
                "asset": {
                  "type": "bytes",
                  "id": 1
                },
                "liquidationThresholdBps": {
                  "type": "uint32",
                  "id": 2,
                  "protoName": "liquidation_threshold_bps"
                },
                "liquidationBonusBps": {
                  "type": "uint32",
                  "id": 3,
                  "protoName": "liquidation_bonus_bps"
                },
                "liquidationProtocolFeeBps": {
                  "type": "uint32",
                  "id": 4,
                  "protoName": "liquidation_protocol_fee_bps"
                },
                "price": {
                  "type": "bytes",
                  "id": 5
                }
              }
            },
            "HealthSnapshot": {
              "fields": {
                "chainId": {
                  "type": "uint64",
                  "id": 1,
                  "protoName": "chain_id"
                },
                "protocol": {
                  "type": "LendingProtocol",
                  "id": 2
                },
                "market": {
                  "type": "bytes",
                  "id": 3
                },
                "blockNumber": {
                  "type": "uint64",
                  "id": 4,
                  "protoName": "block_number"
                },
                "blockHash": {
                  "type": "bytes",
                  "id": 5,
                  "protoName": "block_hash"
                },
                "observedAt": {
                  "type": "uint64",
                  "id": 6,
                  "protoName": "observed_at"
                },
                "full": {
                  "type": "bool",
                  "id": 7
                },
                "part": {
                  "type": "uint32",
                  "id": 8
                },
                "parts": {
                  "type": "uint32",
                  "id": 9
                },
                "accounts": {
                  "rule": "repeated",
                  "type": "AccountHealth",
                  "id": 10
                },
                "blockTimestamp": {
                  "type": "uint64",
                  "id": 11,
                  "protoName": "block_timestamp"
                },
                "morpho": {
                  "type": "MorphoMarketState",
                  "id": 12
                },
                "aaveReserves": {
                  "rule": "repeated",
                  "type": "AaveReserveState",
                  "id": 13,
                  "protoName": "aave_reserves"
                }
              }
            },
            "DepthPoint": {
              "fields": {
                "zeroForOne": {
                  "type": "bool",
                  "id": 1,
                  "protoName": "zero_for_one"
                },
                "impactBps": {
                  "type": "uint32",
                  "id": 2,
                  "protoName": "impact_bps"
                },
                "amountIn": {
                  "type": "bytes",
                  "id": 3,
                  "protoName": "amount_in"
                },
                "amountOut": {
                  "type": "bytes",
                  "id": 4,
                  "protoName": "amount_out"
                }
              }
            },
            "LiquiditySnapshot": {
              "fields": {
                "chainId": {
                  "type": "uint64",
                  "id": 1,
                  "protoName": "chain_id"
                },
                "venue": {
                  "type": "Venue",
                  "id": 2
                },
                "pair": {
                  "type": "bytes",
                  "id": 3
                },
                "token0": {
                  "type": "bytes",
                  "id": 4
                },
                "token1": {
                  "type": "bytes",
                  "id": 5
                },
                "blockNumber": {
                  "type": "uint64",
                  "id": 6,
                  "protoName": "block_number"
                },
                "blockHash": {
                  "type": "bytes",
                  "id": 7,
                  "protoName": "block_hash"
                },
                "observedAt": {
                  "type": "uint64",
                  "id": 8,
                  "protoName": "observed_at"
                },
                "reserve0": {
                  "type": "bytes",
                  "id": 9
                },
                "reserve1": {
                  "type": "bytes",
                  "id": 10
                },
                "depth": {
                  "rule": "repeated",
                  "type": "DepthPoint",
                  "id": 11
                }
              }
            },
            "SignedEnvelope": {
              "fields": {
                "kind": {
                  "type": "PayloadKind",
                  "id": 1
                },
                "payload": {
                  "type": "bytes",
                  "id": 2
                },
                "signer": {
                  "type": "bytes",
                  "id": 3
                },
                "signature": {
                  "type": "bytes",
                  "id": 4
                }
              }
            }
          }
        }
      }
    }
  }
} as const
