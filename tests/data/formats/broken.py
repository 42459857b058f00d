import torch
loss = F.cross_entropy(
