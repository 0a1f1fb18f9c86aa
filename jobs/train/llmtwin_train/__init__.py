"""llmtwin's fine-tuning job: TRL SFT with a PEFT LoRA adapter on instruction/answer pairs."""
