"""Reading and writing a shot: shot.yaml (``config``), frame sequences (``sequences``),
EXR files (``exrio``), mattes into holes (``masks``), a whole shot from disk (``shot``)
and farm path mapping (``pathmap``). Below everything that uses them: nothing here
imports the method, the fills or the pipeline."""
