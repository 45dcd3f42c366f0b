# Cedar MoE model code (sample world)
class CedarMoeForCausalLM:
    pass
