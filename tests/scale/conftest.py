"""Scale-out tests: long-shot windows, chunked farm renders, data-parallel training."""
