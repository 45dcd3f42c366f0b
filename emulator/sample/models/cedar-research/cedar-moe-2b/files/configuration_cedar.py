class CedarConfig:
    model_type = 'cedar_moe'
